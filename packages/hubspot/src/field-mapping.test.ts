import { describe, expect, it } from "vitest";
import {
  hubSpotPropertiesToLinqContact,
  linqContactToHubSpotProperties,
  resolveHubSpotFieldMapping,
} from "./field-mapping.ts";

describe("HubSpot field mapping", () => {
  const contact = {
    first_name: "Jane",
    last_name: "Doe",
    email: "jane@example.com",
    phone_number: "+15551234567",
    company: "Acme",
    title: "CEO",
    location: "Austin",
  };

  it("maps Linq fields to the default HubSpot properties", () => {
    expect(linqContactToHubSpotProperties(contact)).toEqual({
      firstname: "Jane",
      lastname: "Doe",
      email: "jane@example.com",
      phone: "+15551234567",
      company: "Acme",
      jobtitle: "CEO",
      city: "Austin",
    });
  });

  it("skips empty values and switched-off fields, and honours overrides", () => {
    const mapping = resolveHubSpotFieldMapping({ phone_number: "mobilephone", location: null });
    expect(linqContactToHubSpotProperties({ ...contact, company: "  ", title: null }, mapping)).toEqual({
      firstname: "Jane",
      lastname: "Doe",
      email: "jane@example.com",
      mobilephone: "+15551234567",
    });
  });

  it("maps HubSpot properties back to Linq fields", () => {
    expect(
      hubSpotPropertiesToLinqContact({ firstname: "Jane", jobtitle: "CEO", city: "", hs_object_id: "1" }),
    ).toEqual({
      first_name: "Jane",
      title: "CEO",
    });
  });
});
