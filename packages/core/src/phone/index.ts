/** Phone number normalisation (E.164) and SMS segment counting. */
export {
  type CountryCode,
  type DisplayPhoneNumberOptions,
  formatPhoneNumberForDisplay,
  isEmailHandle,
  isSamePhoneNumber,
  normalizePhoneNumber,
  type PhoneNumberOptions,
  phoneNumberSearchVariants,
  tryNormalizePhoneNumber,
} from "./phone-number.ts";
export {
  calculateSmsSegments,
  isGsm7Character,
  isGsm7Text,
  RECOMMENDED_MAX_SMS_SEGMENTS,
  type SmsEncoding,
  type SmsSegmentInfo,
  type SmsSegmentWarningOptions,
  smsSegmentWarning,
} from "./sms-segments.ts";
