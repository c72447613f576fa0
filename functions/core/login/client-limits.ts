/**
 * How much a client may tell the broker about itself at login. Each login writes a client
 * registration (name, address, login gateway, reported attributes, recorded headers) and a log
 * row; the guide ("Database Space Requirements") budgets about 5 KB of database per login, so
 * the registration is bounded: at most about 2 KB of reported attributes plus at most
 * {@link RECORDED_HEADERS_MAX} recorded headers of {@link RECORDED_HEADER_LENGTH} characters.
 */
export const CLIENT_LIMITS = {
  /** Characters of the client name a client reports. */
  nameLength: 128,
  /** Attributes a client reports. */
  attributes: 16,
  /** Characters of one attribute's name. */
  attributeNameLength: 64,
  /** Characters of one attribute's value. */
  attributeValueLength: 256,
  /** UTF-8 bytes of all reported attributes, as stored (JSON). */
  attributesBytes: 2048,
} as const;

/** Header names a site may record with each client (`settings.clientHeaders`). */
export const RECORDED_HEADERS_MAX = 8;
/** Characters of a recorded header value kept; the rest is cut off. */
export const RECORDED_HEADER_LENGTH = 256;

/** UTF-8 bytes of the attributes as the site database stores them (JSON). */
export const attributesBytes = (attributes: Readonly<Record<string, string>>) =>
  new TextEncoder().encode(JSON.stringify(attributes)).length;
