// Password guessing, limited three ways, counted before the password is checked (an attempt in flight counts as
// a failure until it is known not to be one), so parallel guesses cannot slip past the limit:
//   - per account and address: `perPair` failures per window, then refused for a block that doubles each
//     time it is hit again (5 min, 10, 20, ... up to a day): the guessed account, from the guessing address;
//   - per address, over all accounts: `perAddress` failures per window (one address spraying many names);
//   - per account, from anywhere: a delay before the answer that grows with the account's failures (a slow
//     spray from many addresses), never a refusal, so the owner from another address still gets in.
// A success clears its own account-and-address count and the account's delay, nothing else: an attacker's
// logins into an account of their own do not reset what they did to another.

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

interface Count {
  failures: number;
  inFlight: number;
  since: number;
  blockedUntil: number;
  strikes: number;
}

export type Admission =
  | { ok: true; delayMs: number; failed(): void; succeeded(): void; done(): void }
  | { ok: false; retryAfterSec: number; reason: 'account' | 'address' };

const MAX_KEYS = 50_000;

export class LoginThrottle {
  private readonly pairs = new Map<string, Count>();
  private readonly addresses = new Map<string, Count>();
  private readonly accounts = new Map<string, Count>();

  constructor(private readonly l: ThrottleLimits = DEFAULT_LIMITS) {}

  private count(map: Map<string, Count>, key: string, now: number): Count {
    let c = map.get(key);
    if (c && now - c.since >= this.l.windowMs && c.inFlight === 0) {
      c.failures = 0;
      c.since = now;
    }
    if (!c) {
      c = { failures: 0, inFlight: 0, since: now, blockedUntil: 0, strikes: 0 };
      if (map.size >= MAX_KEYS) map.delete(map.keys().next().value!);
      map.set(key, c);
    }
    return c;
  }

  /** Synchronous on purpose: the check and the reservation happen with nothing in between. */
  admit(account: string, address: string, now = Date.now()): Admission {
    const pair = this.count(this.pairs, `${account}\n${address}`, now);
    const addr = this.count(this.addresses, address, now);
    const acct = this.count(this.accounts, account, now);
    if (pair.blockedUntil > now) return { ok: false, reason: 'account', retryAfterSec: Math.ceil((pair.blockedUntil - now) / 1000) };
    if (pair.failures + pair.inFlight >= this.l.perPair) {
      pair.blockedUntil = now + Math.min(this.l.maxBlockMs, this.l.firstBlockMs * 2 ** pair.strikes++);
      pair.failures = 0;
      pair.since = now;
      return { ok: false, reason: 'account', retryAfterSec: Math.ceil((pair.blockedUntil - now) / 1000) };
    }
    if (addr.failures + addr.inFlight >= this.l.perAddress)
      return { ok: false, reason: 'address', retryAfterSec: Math.ceil((addr.since + this.l.windowMs - now) / 1000) };
    pair.inFlight++;
    addr.inFlight++;
    acct.inFlight++;
    const over = acct.failures - this.l.perPair;
    const delayMs = over > 0 ? Math.min(8000, 250 * 2 ** Math.min(over, 5)) : 0;
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      pair.inFlight--;
      addr.inFlight--;
      acct.inFlight--;
      f();
    };
    return {
      ok: true,
      delayMs,
      failed: () =>
        settle(() => {
          pair.failures++;
          addr.failures++;
          acct.failures++;
        }),
      succeeded: () =>
        settle(() => {
          this.pairs.delete(`${account}\n${address}`);
          this.accounts.delete(account);
        }),
      // Neither: the request never got to the password (a bad form).
      done: () => settle(() => undefined),
    };
  }
}
