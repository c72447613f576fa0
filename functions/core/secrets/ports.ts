/**
 * Ports of stored secrets: LDAP bind passwords and TOTP secrets are kept sealed (envelope
 * encryption) in the site database and in the leased-mode copy in the state table, and opened
 * only where they are used (the LDAP bind, the TOTP check).
 */

/** Seals and opens stored secrets. */
export interface SecretBox {
  /**
   * Encrypts `plain` under the current key (a new random IV each time, so sealing the same
   * value twice gives two different texts).
   * @throws {SecretUnavailableError} when the key cannot be reached.
   */
  seal(plain: string): Promise<string>;
  /**
   * The clear value of a sealed one. A value that is not sealed (stored before encryption) is
   * returned as it is.
   * @throws {SecretUnavailableError} when its key is unknown here or the text was altered.
   */
  open(value: string): Promise<string>;
  /** Whether `value` is sealed (false for a clear value stored before encryption). */
  isSealed(value: string): boolean;
  /** The id of the key a sealed value was sealed under; undefined for a clear value. */
  keyIdOf(value: string): string | undefined;
}

/** Opening only, for the places that use a secret (LDAP bind, TOTP check). */
export type SecretOpener = Pick<SecretBox, 'open'>;

/** Which stored value a secret is: an authentication server's bind password, a user's TOTP secret (by row id: soft-deleted rows hold secrets too). */
export interface SecretRef {
  readonly kind: 'bind_password' | 'totp_secret';
  readonly id: number;
}

export interface StoredSecret {
  readonly ref: SecretRef;
  readonly value: string;
}

/** Every stored secret of the site database, for sealing old clear values and re-encryption. */
export interface StoredSecrets {
  list(): Promise<StoredSecret[]>;
  /**
   * Replaces values in one transaction, each only if it still holds `from` (an apply that
   * changed it meanwhile wins). Resolves how many were replaced.
   */
  replace(changes: readonly { ref: SecretRef; from: string; to: string }[]): Promise<number>;
}
