/**
 * Graph's phone number format for authentication methods: `+{country code} {number}x{extension}`,
 * extension optional ("+1 5555551234", "+1 5555551234x123"). Graph rejects anything else on create/update.
 * The emulator reads the format strictly: a 1-3 digit country code without leading zero, one space, the
 * subscriber number as 4-15 digits (E.164 caps the whole number at 15), then optionally `x` and 1-10 digits.
 */
export const PHONE_NUMBER_RE = /^\+[1-9]\d{0,2} \d{4,15}(?:x\d{1,10})?$/;

/**
 * A number as an Authentication Administrator is shown it (behaviour.maskedPhoneNumbers): the country
 * code and the subscriber number's last two digits kept, every other digit an `X`
 * (`+1 4255550101x12` -> `+1 XXXXXXXX01xXX`). Graph's own mask is undocumented: this is one shape of it.
 */
export function maskedPhoneNumber(phoneNumber: string): string {
  const m = /^(\+\d+ )(\d*?)(\d{0,2})((?:x\d+)?)$/.exec(phoneNumber);
  if (!m) return phoneNumber.replace(/\d/g, 'X');
  return `${m[1]}${m[2]!.replace(/\d/g, 'X')}${m[3]}${m[4]!.replace(/\d/g, 'X')}`;
}

export const PHONE_TYPES = ['mobile', 'alternateMobile', 'office'] as const;
export type PhoneType = (typeof PHONE_TYPES)[number];

/** Graph's fixed method ids: a user's phone of a given type always has the same id. */
export const PHONE_METHOD_IDS: Record<PhoneType, string> = {
  mobile: '3179e48a-750b-4051-897c-87b9720928f7',
  alternateMobile: 'b6332ec1-7057-4abe-9331-3d72feddfe41',
  office: 'e37fc753-ff3b-4958-9484-eaa9425c82bc',
};

export const EMAIL_METHOD_ID = '3ddfcfc8-9383-446f-83cc-3ab9be4be18f';
export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';

export function isPhoneType(value: unknown): value is PhoneType {
  return typeof value === 'string' && (PHONE_TYPES as readonly string[]).includes(value);
}

export function phoneTypeForId(id: string): PhoneType | undefined {
  const lower = id.toLowerCase();
  return PHONE_TYPES.find((t) => PHONE_METHOD_IDS[t] === lower);
}
