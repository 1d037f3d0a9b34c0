import { describe, expect, it } from "vitest";
import { linqContactToSalesforceFields } from "./field-mapping.ts";

describe("Salesforce field mapping", () => {
  it("maps a full Linq contact to Contact fields", () => {
    expect(
      linqContactToSalesforceFields("Contact", {
        first_name: "Jane",
        last_name: "Doe",
        email: "jane@example.com",
        phone_number: "+15551234567",
        company: "Acme",
        title: "CEO",
        location: "Austin",
      }),
    ).toEqual({
      FirstName: "Jane",
      LastName: "Doe",
      Email: "jane@example.com",
      MobilePhone: "+15551234567",
      Title: "CEO",
      MailingCity: "Austin",
    });
  });

  it("derives the required LastName when the contact has none", () => {
    expect(linqContactToSalesforceFields("Contact", { first_name: "Jane" }).LastName).toBe("Jane");
    expect(linqContactToSalesforceFields("Contact", { email: "kim@example.com" }).LastName).toBe("kim");
    expect(linqContactToSalesforceFields("Contact", { phone_number: "+15551234567" }).LastName).toBe(
      "+15551234567",
    );
    expect(linqContactToSalesforceFields("Contact", {}).LastName).toBe("Unknown");
  });

  it("fills the required Lead.Company from the contact or a placeholder", () => {
    expect(linqContactToSalesforceFields("Lead", { last_name: "Doe", company: "Acme" }).Company).toBe("Acme");
    expect(
      linqContactToSalesforceFields("Lead", { last_name: "Doe" }, { companyPlaceholder: "Via Linq" }).Company,
    ).toBe("Via Linq");
  });
});
