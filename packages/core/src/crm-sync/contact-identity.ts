/**
 * Who a contact is, for matching and for the per-contact lock.
 *
 * Every path that may create a CRM contact for a person (a Linq contact event, a text from an unknown
 * number, a CRM webhook writing back to Linq) must hold the same lock while it looks for the contact
 * and creates it, because CRM search is eventually consistent and cannot see a record created a
 * moment ago. The lock key is derived from the person's E.164 phone number first, then their email
 * address, so that all those paths agree on it; `contactLockKey` builds it.
 */
import { isEmailHandle, type PhoneNumberOptions, tryNormalizePhoneNumber } from "../phone/phone-number.ts";
import { type ContactFieldValue, normalizeEmailAddress } from "./field-values.ts";

/** A person's identifiers in their canonical forms. */
export interface ContactIdentity {
  /** E.164, when a phone number was given and parses. */
  phoneNumber?: string;
  /** Lower-cased, when an email address was given. */
  email?: string;
}

/**
 * The canonical identity of a contact from its phone number and email (either may be missing or
 * unusable). A "phone number" that is an email address (an iMessage handle) counts as the email
 * when no email is given.
 */
export function contactIdentity(
  input: { phoneNumber?: ContactFieldValue; email?: ContactFieldValue },
  options: PhoneNumberOptions = {},
): ContactIdentity {
  const identity: ContactIdentity = {};
  const phone = typeof input.phoneNumber === "string" ? input.phoneNumber.trim() : "";
  let email = normalizeEmailAddress(input.email);
  if (phone !== "") {
    if (isEmailHandle(phone)) email ??= normalizeEmailAddress(phone);
    else {
      const e164 = tryNormalizePhoneNumber(phone, options);
      if (e164 !== undefined) identity.phoneNumber = e164;
    }
  }
  if (email !== undefined) identity.email = email;
  return identity;
}

/**
 * The lock key for a person: `<namespace>:phone:<E.164>`, else `<namespace>:email:<address>`, else
 * `<namespace>:<fallback>` (an id on one side, when the person has neither). The namespace keeps
 * connectors apart ("hubspot-contact", "salesforce-contact").
 */
export function contactLockKey(namespace: string, identity: ContactIdentity, fallback: string): string {
  if (identity.phoneNumber !== undefined) return `${namespace}:phone:${identity.phoneNumber}`;
  if (identity.email !== undefined) return `${namespace}:email:${identity.email}`;
  return `${namespace}:${fallback}`;
}

/** Whether two identities name the same person: the same phone number, or else the same email. */
export function sameContactIdentity(left: ContactIdentity, right: ContactIdentity): boolean {
  if (left.phoneNumber !== undefined && right.phoneNumber !== undefined) {
    return left.phoneNumber === right.phoneNumber;
  }
  return left.email !== undefined && left.email === right.email;
}
