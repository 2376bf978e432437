// A real OpenID Connect provider (the `oidc-provider` package) on loopback, standing in for Google: the
// test says who signs in at its login page, and with which claims.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface OidcAccount {
  sub: string;
  email?: string;
  email_verified?: boolean;
}

export interface OidcServer {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Who the next sign-in at the provider's login page is. */
  signInAs(account: OidcAccount): void;
  /** Registers our redirect URI (known once the API listens). */
  allowRedirect(uri: string): void;
  close(): Promise<void>;
}

export async function startOidcServer(): Promise<OidcServer> {
  let handler: ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) | null =
    null;
  const server: Server = createServer((req, res) => {
    if (handler) return handler(req, res);
    res.statusCode = 503;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'tradeflow-test';
  const clientSecret = 'oidc-test-secret-0123456789abcdef0123456789abcdef';
  let account: OidcAccount = { sub: 'nobody' };
  const accounts = new Map<string, OidcAccount>();

  return {
    issuer,
    clientId,
    clientSecret,
    signInAs(a) {
      account = a;
      accounts.set(a.sub, a);
    },
    allowRedirect(uri) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [uri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ],
        // Google puts the address in the ID token itself.
        conformIdTokenClaims: false,
        claims: { openid: ['sub'], email: ['email', 'email_verified'] },
        pkce: { required: () => true },
        features: { devInteractions: { enabled: false } },
        interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
        cookies: { keys: ['oidc-test-cookie-key-0123456789'] },
        findAccount: async (_ctx, sub) => {
          const found = accounts.get(sub);
          if (!found) return undefined;
          return { accountId: sub, claims: async () => ({ ...found }) };
        },
      });
      const callback = provider.callback();
      // The login page: the person is whoever the test said, and consents to what was asked.
      handler = (req, res) => {
        if (!req.url?.startsWith('/interaction/')) return callback(req, res);
        (async () => {
          const details = await provider.interactionDetails(req, res);
          const grant = new provider.Grant({ accountId: account.sub, clientId: String(details.params.client_id) });
          grant.addOIDCScope(String(details.params.scope));
          const grantId = await grant.save();
          await provider.interactionFinished(
            req,
            res,
            { login: { accountId: account.sub }, consent: { grantId } },
            { mergeWithLastSubmission: false },
          );
        })().catch((err: Error) => {
          res.statusCode = 500;
          res.end(err.message);
        });
      };
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
