import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { BrokerError } from '../core/errors.js';

/**
 * scrypt cost. N = 2^logN; memory is 128 * N * r bytes (16 MiB at the default). The default suits an
 * interactive login; connection storms are absorbed by the authenticator's cache of verified passwords.
 */
export interface ScryptCost {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

export const DEFAULT_SCRYPT_COST: ScryptCost = Object.freeze({ logN: 14, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PREFIX = '$scrypt$';

/** A parsed stored hash: what `verifyPassword` compares against. */
export interface PasswordHash {
  readonly cost: ScryptCost;
  readonly salt: Buffer;
  readonly key: Buffer;
}

function checkCost(cost: ScryptCost): void {
  const { logN, r, p } = cost;
  const ok =
    Number.isInteger(logN) && logN >= 1 && logN <= 24 && Number.isInteger(r) && r >= 1 && r <= 64 && Number.isInteger(p) && p >= 1 && p <= 16;
  if (!ok) throw new BrokerError('INVALID_ARGUMENT', `scrypt cost ln=${logN},r=${r},p=${p} is out of range`);
}

function derive(password: string, salt: Buffer, cost: ScryptCost, keyLength: number): Promise<Buffer> {
  const N = 2 ** cost.logN;
  // Node refuses scrypt above maxmem (32 MiB by default); allow what the cost needs plus headroom.
  const maxmem = 128 * N * cost.r * 2 + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, { N, r: cost.r, p: cost.p, maxmem }, (error, key) => {
      if (error) reject(new BrokerError('INTERNAL', `scrypt failed: ${error.message}`, undefined, { cause: error }));
      else resolve(key);
    });
  });
}

/**
 * Hashes a password for storage, in the PHC string format `$scrypt$ln=14,r=8,p=1$<salt>$<key>`
 * (base64 without padding), so configuration files can hold hashes instead of passwords.
 */
export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  if (typeof password !== 'string') throw new BrokerError('INVALID_ARGUMENT', 'password must be a string');
  checkCost(cost);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, cost, KEY_BYTES);
  return formatPasswordHash({ cost, salt, key });
}

export function formatPasswordHash(hash: PasswordHash): string {
  const { logN, r, p } = hash.cost;
  return `${PREFIX}ln=${logN},r=${r},p=${p}$${hash.salt.toString('base64url')}$${hash.key.toString('base64url')}`;
}

/** Parses a stored hash; INVALID_ARGUMENT (naming no secret) when it is not one `hashPassword` makes. */
export function parsePasswordHash(stored: string): PasswordHash {
  const match = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{16,})$/.exec(stored);
  if (!match) {
    throw new BrokerError('INVALID_ARGUMENT', "password hash is not in the form '$scrypt$ln=..,r=..,p=..$<salt>$<key>'");
  }
  const cost = { logN: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  checkCost(cost);
  const salt = Buffer.from(match[4] as string, 'base64url');
  const key = Buffer.from(match[5] as string, 'base64url');
  if (key.byteLength < 16) throw new BrokerError('INVALID_ARGUMENT', 'password hash key is shorter than 16 bytes');
  return { cost, salt, key };
}

/** Derives the key for `password` with the hash's salt and cost and compares it in constant time. */
export async function verifyPassword(password: string, hash: PasswordHash): Promise<boolean> {
  const key = await derive(password, hash.salt, hash.cost, hash.key.byteLength);
  return timingSafeEqual(key, hash.key);
}
