import { errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { type ExternalIdentity, OAuthFailure } from './provider.js';

export interface IdTokenExpectations {
  issuer: string;
  /** Our client id: the token must be meant for us. */
  audience: string;
  /** The nonce we sent with this sign-in: a token replayed from another one carries a different one. */
  nonce: string;
  /** For tests: the time the token is checked at. */
  currentDate?: Date;
}

/** Asymmetric algorithms only: a key set never vouches for an HMAC or unsigned token. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * Checks an OpenID Connect ID token (Core §3.1.3.7): signed by the issuer's key, from the issuer, for us,
 * in date, with our nonce, naming a verified address. What it vouches for, or an `OAuthFailure`.
 */
export async function verifyIdToken(
  token: string,
  keys: JWTVerifyGetKey,
  expected: IdTokenExpectations,
): Promise<ExternalIdentity> {
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      issuer: expected.issuer,
      audience: expected.audience,
      algorithms: ALGORITHMS,
      requiredClaims: ['sub', 'iat', 'exp'],
      clockTolerance: 60,
      ...(expected.currentDate ? { currentDate: expected.currentDate } : {}),
    }));
  } catch (err) {
    throw new OAuthFailure(`the ID token was refused: ${reasonOf(err)}`);
  }
  // Several audiences: the party it was issued to must be us (Core §3.1.3.7, items 4 and 5).
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== expected.audience) {
    throw new OAuthFailure('the ID token was refused: it was issued to another client (azp)');
  }
  if (payload.nonce !== expected.nonce) throw new OAuthFailure('the ID token was refused: its nonce is not ours');
  const { sub, email, email_verified: verified } = payload;
  if (typeof sub !== 'string' || sub === '') throw new OAuthFailure('the ID token names no subject');
  if (typeof email !== 'string' || email === '') {
    throw new OAuthFailure('the provider shared no email address: allow the "email" scope');
  }
  if (verified !== true && verified !== 'true') {
    throw new OAuthFailure(`the provider has not verified the address ${email}`);
  }
  return { subject: sub, email: email.toLowerCase() };
}

function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'it expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `its ${err.claim} claim is wrong (${err.reason})`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer signed it';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'it is signed with an algorithm not accepted';
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid)
    return "the issuer's keys could not be read";
  if (err instanceof errors.JOSEError) return err.code;
  return 'it could not be read';
}
