import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrokerError } from '../core/errors.js';
import { DEFAULT_SCRYPT_COST, formatPasswordHash, hashPassword, parsePasswordHash, verifyPassword } from './password-hash.js';

const cheap = { logN: 4, r: 1, p: 1 };

describe('password hashes', () => {
  it('writes the PHC scrypt format with the cost, a salt and a key', async () => {
    const stored = await hashPassword('secret', cheap);
    assert.match(stored, /^\$scrypt\$ln=4,r=1,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    const parsed = parsePasswordHash(stored);
    assert.deepEqual(parsed.cost, cheap);
    assert.equal(parsed.salt.byteLength, 16);
    assert.equal(parsed.key.byteLength, 32);
    assert.equal(formatPasswordHash(parsed), stored);
  });

  it('verifies the right password and refuses others', async () => {
    const hash = parsePasswordHash(await hashPassword('pässwörd', cheap));
    assert.equal(await verifyPassword('pässwörd', hash), true);
    assert.equal(await verifyPassword('passwörd', hash), false);
    assert.equal(await verifyPassword('', hash), false);
  });

  it('salts every hash', async () => {
    assert.notEqual(await hashPassword('same', cheap), await hashPassword('same', cheap));
  });

  it('works at the default cost', async () => {
    const stored = await hashPassword('guest');
    assert.ok(stored.startsWith(`$scrypt$ln=${DEFAULT_SCRYPT_COST.logN},r=${DEFAULT_SCRYPT_COST.r},p=${DEFAULT_SCRYPT_COST.p}$`));
    assert.equal(await verifyPassword('guest', parsePasswordHash(stored)), true);
  });

  it('refuses malformed stored hashes and absurd costs with INVALID_ARGUMENT', async () => {
    const good = await hashPassword('x', cheap);
    const malformed = [
      '',
      'guest',
      good.replace('$scrypt$', '$bcrypt$'),
      good.replace('ln=4', 'ln=30'),
      good.replace('r=1', 'r=0'),
      good.slice(0, good.lastIndexOf('$') + 5),
    ];
    for (const stored of malformed) {
      assert.throws(() => parsePasswordHash(stored), (error: unknown) => isBrokerError(error, 'INVALID_ARGUMENT'), stored);
    }
    await assert.rejects(hashPassword('x', { logN: 0, r: 1, p: 1 }), (error: unknown) => isBrokerError(error, 'INVALID_ARGUMENT'));
  });
});
