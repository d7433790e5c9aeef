import type { LoginCount as Count } from '../recordings/login-counts';

// Password guessing, limited three ways, counted before the password is checked (an attempt in flight counts as
// a failure until it is known not to be one), so parallel guesses cannot slip past the limit:
//   - per account and address: `perPair` failures per window, then refused for a block that doubles each
//     time it is hit again (5 min, 10, 20, ... up to a day): the guessed account, from the guessing address;
//   - per address, over all accounts: `perAddress` failures per window (one address spraying many names);
//   - per account, from anywhere: a delay before the answer that grows with the account's failures (a slow
//     spray from many addresses), never a refusal, so the owner from another address still gets in.
// A success clears its own account-and-address count and the account's delay, nothing else: an attacker's
// logins into an account of their own do not reset what they did to another.
// The counts live in the catalog (LoginCounts): every companion sharing it counts the same guesses, and a
// restart does not lift a block. Each admission is one atomic read-modify-write of its three counts.

export interface ThrottleLimits {
  perPair: number;
  perAddress: number;
  windowMs: number;
  firstBlockMs: number;
  maxBlockMs: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = {
  perPair: 5,
  perAddress: 30,
  windowMs: 15 * 60_000,
  firstBlockMs: 5 * 60_000,
  maxBlockMs: 24 * 3600_000,
};

/**
 * Where the counts are kept: `update` hands `fn` the counts of `keys` (new ones zeroed, dated `now`) with
 * nobody else changing them until it returns, then stores what `fn` left (a key it deleted is removed).
 */
export interface LoginCounts {
  update<T>(keys: string[], now: number, fn: (counts: Map<string, Count>) => T): Promise<T>;
}

export type Admission =
  | { ok: true; delayMs: number; failed(): Promise<void>; succeeded(): Promise<void>; done(): Promise<void> }
  | { ok: false; retryAfterSec: number; reason: 'account' | 'address' };

const fresh = (now: number): Count => ({ failures: 0, inFlight: 0, since: now, blockedUntil: 0, strikes: 0 });

/** In this process only (tests; a portal without a catalog). */
export class MemoryLoginCounts implements LoginCounts {
  private readonly counts = new Map<string, Count>();
  async update<T>(keys: string[], now: number, fn: (counts: Map<string, Count>) => T): Promise<T> {
    const m = new Map(keys.map((k) => [k, this.counts.get(k) ?? fresh(now)]));
    const out = fn(m);
    for (const k of keys) {
      const c = m.get(k);
      if (c) this.counts.set(k, c);
      else this.counts.delete(k);
    }
    if (this.counts.size > 50_000) this.counts.delete(this.counts.keys().next().value!);
    return out;
  }
}

export class LoginThrottle {
  constructor(
    private readonly store: LoginCounts = new MemoryLoginCounts(),
    private readonly l: ThrottleLimits = DEFAULT_LIMITS,
  ) {}

  /** A new window once the old one is over; reservations of a process that died are forgotten after two. */
  private windowed(c: Count, now: number): Count {
    if (now - c.since >= this.l.windowMs && (c.inFlight === 0 || now - c.since >= 2 * this.l.windowMs))
      return { ...c, failures: 0, inFlight: 0, since: now };
    return c;
  }

  /** The check and the reservation in one atomic step: parallel guesses cannot all pass the check first. */
  async admit(account: string, address: string, now = Date.now()): Promise<Admission> {
    const keys = { pair: `p:${account}\n${address}`, addr: `a:${address}`, acct: `u:${account}` };
    const ks = [keys.pair, keys.addr, keys.acct];
    const decision = await this.store.update(ks, now, (m) => {
      // the windowed counts are what is stored, whatever this admission decides (changes below are to them)
      const [pair, addr, acct] = ks.map((k) => {
        const c = this.windowed(m.get(k)!, now);
        m.set(k, c);
        return c;
      }) as [Count, Count, Count];
      if (pair.blockedUntil > now) {
        return { ok: false as const, reason: 'account' as const, retryAfterSec: Math.ceil((pair.blockedUntil - now) / 1000) };
      }
      if (pair.failures + pair.inFlight >= this.l.perPair) {
        pair.blockedUntil = now + Math.min(this.l.maxBlockMs, this.l.firstBlockMs * 2 ** pair.strikes++);
        pair.failures = 0;
        pair.since = now;
        return { ok: false as const, reason: 'account' as const, retryAfterSec: Math.ceil((pair.blockedUntil - now) / 1000) };
      }
      if (addr.failures + addr.inFlight >= this.l.perAddress) {
        return { ok: false as const, reason: 'address' as const, retryAfterSec: Math.ceil((addr.since + this.l.windowMs - now) / 1000) };
      }
      pair.inFlight++;
      addr.inFlight++;
      acct.inFlight++;
      const over = acct.failures - this.l.perPair;
      return { ok: true as const, delayMs: over > 0 ? Math.min(8000, 250 * 2 ** Math.min(over, 5)) : 0 };
    });
    if (!decision.ok) return decision;
    let settled: Promise<void> | undefined;
    const settle = (f: (m: Map<string, Count>) => void) =>
      (settled ??= this.store.update(ks, Date.now(), (m) => {
        for (const k of ks) {
          const c = m.get(k)!;
          c.inFlight = Math.max(0, c.inFlight - 1);
        }
        f(m);
      }));
    return {
      ok: true,
      delayMs: decision.delayMs,
      failed: () =>
        settle((m) => {
          for (const k of ks) m.get(k)!.failures++;
        }),
      succeeded: () =>
        settle((m) => {
          m.delete(keys.pair);
          m.delete(keys.acct);
        }),
      // Neither: the request never got to the password (a bad form, the catalog away).
      done: () => settle(() => undefined),
    };
  }
}
