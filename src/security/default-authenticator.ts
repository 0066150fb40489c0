import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BrokerError } from '../core/errors.js';
import type { Authenticator, Credentials, Principal } from '../core/ports.js';
import { createLoopbackMatcher } from './loopback.js';
import { DEFAULT_SCRYPT_COST, hashPassword, parsePasswordHash, verifyPassword } from './password-hash.js';
import type { PasswordHash, ScryptCost } from './password-hash.js';

export interface UserDefinition {
  readonly username: string;
  /** A plain password, hashed when the user is added (never kept). Give this or `passwordHash`. */
  readonly password?: string;
  /** A hash made by `hashPassword` (`$scrypt$...`), e.g. from a configuration file. */
  readonly passwordHash?: string;
  /** Management tags, e.g. `administrator` (RabbitMQ's user tags). */
  readonly tags?: readonly string[];
}

export interface DefaultAuthenticatorOptions {
  /** Users besides the default guest; a user named `guest` here replaces the default one. */
  readonly users?: readonly UserDefinition[];
  /** Adds user `guest` with password `guest` and tag `administrator` (default true). */
  readonly defaultGuest?: boolean;
  /**
   * Users who may connect only from a loopback address (RabbitMQ's `loopback_users`); default ['guest'].
   * Pass [] to let guest connect from anywhere.
   */
  readonly loopbackUsers?: readonly string[];
  /**
   * The user an ANONYMOUS login becomes (e.g. an MQTT CONNECT without credentials), still subject to
   * `loopbackUsers`; default 'guest', as RabbitMQ's MQTT and STOMP default user. `null` refuses ANONYMOUS.
   */
  readonly anonymousUser?: string | null;
  /** Accept EXTERNAL logins (name taken from a TLS client certificate the transport verified); default false. */
  readonly trustExternal?: boolean;
  /** scrypt cost for plain passwords given here or to `setUser`. */
  readonly hashCost?: ScryptCost;
  /**
   * Password hashes computed at the same time. scrypt runs on libuv's thread pool, which file I/O shares:
   * the bound keeps a flood of bad logins from stalling the log's writes. Default 2.
   */
  readonly maxConcurrentHashes?: number;
}

interface StoredUser {
  readonly username: string;
  readonly hash: PasswordHash;
  readonly tags: readonly string[];
}

const FAILED = 'authentication failed: unknown user or wrong password';

/** Runs at most `limit` tasks at a time, in arrival order. */
class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}

/**
 * The embedded default authenticator: a table of users with scrypt-hashed passwords. Out of the box it
 * holds guest/guest, usable from loopback addresses only, so a fresh broker is reachable locally and
 * closed to the network until real users are configured.
 *
 * A refused login always takes one password hash, whether the user exists or not, and says the same
 * thing either way. Only a caller who gave the right password learns that its user is loopback-only.
 * Successful logins are remembered as an HMAC of the password under a per-instance random key, so a
 * client reconnecting with the right password skips scrypt while guesses still pay for it.
 */
export class DefaultAuthenticator implements Authenticator {
  private readonly users = new Map<string, StoredUser>();
  private readonly verified = new Map<string, Buffer>();
  private readonly cacheKey = randomBytes(32);
  private readonly isLoopback = createLoopbackMatcher();
  private readonly loopbackUsers: ReadonlySet<string>;
  private readonly anonymousUser: string | null;
  private readonly trustExternal: boolean;
  private readonly hashCost: ScryptCost;
  private readonly gate: Gate;
  /** Compared against when the user is unknown, so refusals cost the same either way. */
  private decoy: PasswordHash | undefined;

  private constructor(options: DefaultAuthenticatorOptions) {
    this.loopbackUsers = new Set(options.loopbackUsers ?? ['guest']);
    this.anonymousUser = options.anonymousUser === undefined ? 'guest' : options.anonymousUser;
    this.trustExternal = options.trustExternal ?? false;
    this.hashCost = options.hashCost ?? DEFAULT_SCRYPT_COST;
    const concurrency = options.maxConcurrentHashes ?? 2;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new BrokerError('INVALID_ARGUMENT', `maxConcurrentHashes must be a positive integer, got ${concurrency}`);
    }
    this.gate = new Gate(concurrency);
  }

  /** Builds the authenticator, hashing the plain passwords given (async: scrypt is deliberately slow). */
  static async create(options: DefaultAuthenticatorOptions = {}): Promise<DefaultAuthenticator> {
    const authenticator = new DefaultAuthenticator(options);
    const users = options.users ?? [];
    if ((options.defaultGuest ?? true) && !users.some((user) => user.username === 'guest')) {
      await authenticator.setUser({ username: 'guest', password: 'guest', tags: ['administrator'] });
    }
    for (const user of users) await authenticator.setUser(user);
    authenticator.decoy ??= parsePasswordHash(await hashPassword(randomBytes(16).toString('hex'), authenticator.hashCost));
    return authenticator;
  }

  /** Adds or replaces a user. Throws INVALID_ARGUMENT for a bad definition. */
  async setUser(user: UserDefinition): Promise<void> {
    if (typeof user.username !== 'string' || user.username.length === 0) {
      throw new BrokerError('INVALID_ARGUMENT', 'username must be a non-empty string');
    }
    if ((user.password === undefined) === (user.passwordHash === undefined)) {
      throw new BrokerError('INVALID_ARGUMENT', `user '${user.username}' needs exactly one of password and passwordHash`);
    }
    const hash =
      user.passwordHash !== undefined
        ? parsePasswordHash(user.passwordHash)
        : parsePasswordHash(await hashPassword(user.password as string, this.hashCost));
    this.users.set(user.username, { username: user.username, hash, tags: Object.freeze([...(user.tags ?? [])]) });
    this.verified.delete(user.username);
    this.decoy ??= hash;
  }

  /** Removes a user; returns whether it existed. Existing connections are not closed here. */
  removeUser(username: string): boolean {
    this.verified.delete(username);
    return this.users.delete(username);
  }

  hasUser(username: string): boolean {
    return this.users.has(username);
  }

  usernames(): string[] {
    return [...this.users.keys()].sort();
  }

  async authenticate(credentials: Credentials): Promise<Principal> {
    switch (credentials.mechanism) {
      case 'PLAIN':
      case 'AMQPLAIN':
        return this.withPassword(credentials);
      case 'ANONYMOUS': {
        if (this.anonymousUser === null) throw failure(credentials, 'anonymous login is not enabled');
        const user = this.users.get(this.anonymousUser);
        if (!user) throw failure(credentials, 'anonymous login is not enabled');
        return this.admit(user, credentials);
      }
      case 'EXTERNAL': {
        const user = this.trustExternal ? this.users.get(credentials.username) : undefined;
        if (!user) throw failure(credentials, 'EXTERNAL login is not enabled for this user');
        return this.admit(user, credentials);
      }
      default:
        throw failure(credentials, `unsupported mechanism ${String(credentials.mechanism)}`);
    }
  }

  private async withPassword(credentials: Credentials): Promise<Principal> {
    const { username, password } = credentials;
    if (typeof username !== 'string' || typeof password !== 'string') throw failure(credentials, FAILED);
    const user = this.users.get(username);
    const remembered = user ? this.verified.get(username) : undefined;
    if (user && remembered && timingSafeEqual(this.fingerprint(password), remembered)) {
      return this.admit(user, credentials);
    }
    const hash = user?.hash ?? this.decoy;
    const matches = hash ? await this.gate.run(() => verifyPassword(password, hash)) : false;
    // The user may have been replaced or removed while the hash ran: judge against the current entry.
    if (!user || !matches || this.users.get(username) !== user) throw failure(credentials, FAILED);
    this.verified.set(username, this.fingerprint(password));
    return this.admit(user, credentials);
  }

  private admit(user: StoredUser, credentials: Credentials): Principal {
    if (this.loopbackUsers.has(user.username) && !this.isLoopback(credentials.remoteAddress)) {
      throw failure(
        credentials,
        `user '${user.username}' may only connect from a loopback address (127.0.0.1 or ::1); ` +
          'configure another user, or remove it from loopbackUsers, to connect from elsewhere',
      );
    }
    return { username: user.username, tags: user.tags };
  }

  private fingerprint(password: string): Buffer {
    return createHmac('sha256', this.cacheKey).update(password, 'utf8').digest();
  }
}

function failure(credentials: Credentials, message: string): BrokerError {
  return new BrokerError('AUTHENTICATION_FAILED', message, {
    mechanism: credentials.mechanism,
    protocol: credentials.protocol,
    remoteAddress: credentials.remoteAddress,
  });
}
