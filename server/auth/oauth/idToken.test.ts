import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyIdToken } from './idToken.js';
import { OAuthFailure } from './provider.js';

// The ID token's checks, each refused on its own (OpenID Connect Core §3.1.3.7).

const ISSUER = 'https://issuer.example';
const CLIENT = 'tradeflow-client';
const NONCE = 'nonce-of-this-sign-in';
let signer: CryptoKey;
let stranger: CryptoKey;
let keys: ReturnType<typeof createLocalJWKSet>;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signer = pair.privateKey;
  stranger = (await generateKeyPair('RS256')).privateKey;
  keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' }] });
});

const good: JWTPayload = { sub: 'u-1', email: 'Ann@Example.com', email_verified: true, nonce: NONCE };

async function token(
  claims: JWTPayload = good,
  o: { key?: CryptoKey; iss?: string; aud?: string | string[]; exp?: number } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setIssuer(o.iss ?? ISSUER)
    .setAudience(o.aud ?? CLIENT)
    .setIssuedAt()
    .setExpirationTime(o.exp ?? Math.floor(Date.now() / 1000) + 300)
    .sign(o.key ?? signer);
}

const check = (t: string) => verifyIdToken(t, keys, { issuer: ISSUER, audience: CLIENT, nonce: NONCE });
async function refusal(t: Promise<string>): Promise<string> {
  const err = await check(await t).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OAuthFailure);
  return (err as Error).message;
}

describe('verifyIdToken', () => {
  it('a good token names its subject and its verified address, lower-cased', async () => {
    expect(await check(await token())).toEqual({ subject: 'u-1', email: 'ann@example.com' });
  });

  it('refuses another signer, another issuer, another audience, an expired token, another nonce', async () => {
    expect(await refusal(token(good, { key: stranger }))).toContain('signature does not verify');
    expect(await refusal(token(good, { iss: 'https://evil.example' }))).toContain('iss claim');
    expect(await refusal(token(good, { aud: 'someone-else' }))).toContain('aud claim');
    expect(await refusal(token(good, { exp: Math.floor(Date.now() / 1000) - 3600 }))).toContain('expired');
    expect(await refusal(token({ ...good, nonce: 'replayed' }))).toContain('nonce');
    expect(await refusal(token({ ...good, nonce: undefined }))).toContain('nonce');
  });

  it('several audiences: only when the token was issued to us (azp)', async () => {
    const aud = [CLIENT, 'other'];
    expect(await refusal(token(good, { aud }))).toContain('azp');
    expect(await check(await token({ ...good, azp: CLIENT }, { aud }))).toMatchObject({ subject: 'u-1' });
  });

  it('refuses an unverified or missing address', async () => {
    expect(await refusal(token({ ...good, email_verified: false }))).toContain('not verified');
    expect(await refusal(token({ ...good, email: undefined }))).toContain('no email');
  });

  it('refuses an HMAC token signed with a guessable secret and an unsigned one', async () => {
    const hmac = new SignJWT(good)
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(CLIENT)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(CLIENT));
    expect(await refusal(hmac)).toMatch(/algorithm|key/);
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const body = Buffer.from(
      JSON.stringify({ ...good, iss: ISSUER, aud: CLIENT, iat: 1, exp: Math.floor(Date.now() / 1000) + 60 }),
    ).toString('base64url');
    expect(await refusal(Promise.resolve(`${header}.${body}.`))).toBeTruthy();
  });
});
