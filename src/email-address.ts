/** What may not stand in an address: separators, and control, invisible and text-direction characters. */
const NOT_IN_ADDRESS =
  '\\s@<>()[\\]\\\\,;:"\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff';
const EMAIL = new RegExp(`^[^${NOT_IN_ADDRESS}]+@[^${NOT_IN_ADDRESS}]+\\.[^${NOT_IN_ADDRESS}]+$`);

/**
 * True for an address that looks like what it is: one local part and a dotted domain, at most 320
 * characters, without separators, control, invisible or text-direction characters. What the portal
 * accepts from a form and from an identity provider.
 */
export const isEmailAddress = (email: string): boolean => email.length <= 320 && EMAIL.test(email);
