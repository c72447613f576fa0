/**
 * TOTP (RFC 6238) as an MFA provider: 6 digits, 30-second steps, SHA-1, the step before and
 * after accepted for clock drift. Built on otplib.
 */
import { generate, verify } from 'otplib';

/** Whether `code` is valid for `secret` at `now` (epoch ms). Never throws. */
export async function verifyTotp(secret: string, code: string, now: number): Promise<boolean> {
  try {
    const result = await verify({
      secret,
      token: code,
      epoch: Math.floor(now / 1000),
      epochTolerance: 30,
    });
    return result.valid;
  } catch {
    return false;
  }
}

/** The current code for a secret (tests, scripts). */
export function totpCode(secret: string, now: number): Promise<string> {
  return generate({ secret, epoch: Math.floor(now / 1000) });
}
