// A browser's part of a redirect dance, over real HTTP: it keeps cookies per host and follows redirects,
// recording each hop, so a test sees where it was sent and can replay or tamper with a hop.

export interface Hop {
  url: string;
  status: number;
  location?: string;
  body?: string;
}

export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();

  /** The cookie `name` this browser holds for `url`'s host. */
  cookie(url: string, name: string): string | undefined {
    return this.jar.get(new URL(url).host)?.get(name);
  }

  /** Forgets the cookie `name` for `url`'s host (a browser that did not start the sign-in). */
  drop(url: string, name: string): void {
    this.jar.get(new URL(url).host)?.delete(name);
  }

  /** GET `url` and every redirect after it, at most `maxHops`; the last hop has the final answer's body. */
  async follow(url: string, o: { maxHops?: number; stopAt?: (url: URL) => boolean } = {}): Promise<Hop[]> {
    const hops: Hop[] = [];
    let next: string | undefined = url;
    for (let i = 0; next && i < (o.maxHops ?? 20); i++) {
      const current: string = next;
      if (o.stopAt?.(new URL(current))) {
        hops.push({ url: current, status: 0 });
        return hops;
      }
      const res = await fetch(current, { redirect: 'manual', headers: this.headersFor(current) });
      this.store(current, res.headers.getSetCookie());
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.body?.cancel();
        next = new URL(location, current).toString();
        hops.push({ url: current, status: res.status, location: next });
      } else {
        hops.push({ url: current, status: res.status, body: await res.text() });
        next = undefined;
      }
    }
    return hops;
  }

  private headersFor(url: string): Record<string, string> {
    const cookies = this.jar.get(new URL(url).host);
    if (!cookies?.size) return {};
    return { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') };
  }

  private store(url: string, setCookies: string[]) {
    const host = new URL(url).host;
    const cookies = this.jar.get(host) ?? new Map<string, string>();
    this.jar.set(host, cookies);
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const expired = attributes.some(
        (a) => /^max-age=(0|-\d+)$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now()),
      );
      if (expired) cookies.delete(name);
      else cookies.set(name, pair.slice(eq + 1));
    }
  }
}
