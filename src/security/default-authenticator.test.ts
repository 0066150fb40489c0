import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBrokerError } from '../core/errors.js';
import type { BrokerError } from '../core/errors.js';
import type { Credentials } from '../core/ports.js';
import { DefaultAuthenticator } from './default-authenticator.js';
import type { DefaultAuthenticatorOptions } from './default-authenticator.js';
import { hashPassword } from './password-hash.js';

const cheap = { logN: 4, r: 1, p: 1 };
const UNKNOWN_OR_WRONG = 'authentication failed: unknown user or wrong password';

function login(
  username: string,
  password: string,
  remoteAddress = '127.0.0.1',
  mechanism: Credentials['mechanism'] = 'PLAIN',
): Credentials {
  return { mechanism, username, password, remoteAddress, protocol: 'amqp' };
}

function create(options: DefaultAuthenticatorOptions = {}): Promise<DefaultAuthenticator> {
  return DefaultAuthenticator.create({ hashCost: cheap, ...options });
}

async function refusal(authenticator: DefaultAuthenticator, credentials: Credentials): Promise<BrokerError> {
  try {
    await authenticator.authenticate(credentials);
  } catch (error) {
    assert.ok(isBrokerError(error, 'AUTHENTICATION_FAILED'), `expected AUTHENTICATION_FAILED, got ${String(error)}`);
    return error;
  }
  assert.fail(`login of '${credentials.username}' from ${credentials.remoteAddress} was accepted`);
}

describe('DefaultAuthenticator: the default guest', () => {
  it('lets guest/guest in from loopback addresses as an administrator', async () => {
    const authenticator = await create();
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      assert.deepEqual(await authenticator.authenticate(login('guest', 'guest', address)), {
        username: 'guest',
        tags: ['administrator'],
      });
    }
    assert.deepEqual(authenticator.usernames(), ['guest']);
  });

  it('refuses guest from other addresses, saying why once the password was right', async () => {
    const authenticator = await create();
    for (const address of ['10.0.0.5', '::ffff:192.168.1.1', '2001:db8::1', '']) {
      const error = await refusal(authenticator, login('guest', 'guest', address));
      assert.match(error.message, /user 'guest' may only connect from a loopback address/);
    }
  });

  it('answers a wrong password and an unknown user identically', async () => {
    const authenticator = await create();
    const wrongPassword = await refusal(authenticator, login('guest', 'nope'));
    const unknownUser = await refusal(authenticator, login('mallory', 'guest'));
    const remoteWrong = await refusal(authenticator, login('guest', 'nope', '10.0.0.5'));
    assert.equal(wrongPassword.message, UNKNOWN_OR_WRONG);
    assert.equal(unknownUser.message, wrongPassword.message);
    assert.deepEqual(unknownUser.details, wrongPassword.details);
    assert.equal(remoteWrong.message, UNKNOWN_OR_WRONG);
    assert.ok(!JSON.stringify(unknownUser.details).includes('mallory'));
  });

  it('lets guest in from anywhere when loopbackUsers is empty', async () => {
    const authenticator = await create({ loopbackUsers: [] });
    assert.equal((await authenticator.authenticate(login('guest', 'guest', '10.0.0.5'))).username, 'guest');
  });

  it('has no guest when defaultGuest is false', async () => {
    const authenticator = await create({ defaultGuest: false });
    assert.equal(authenticator.hasUser('guest'), false);
    assert.equal((await refusal(authenticator, login('guest', 'guest'))).message, UNKNOWN_OR_WRONG);
  });

  it('works at the default hash cost', async () => {
    const authenticator = await DefaultAuthenticator.create();
    assert.equal((await authenticator.authenticate(login('guest', 'guest'))).username, 'guest');
  });
});

describe('DefaultAuthenticator: configured users', () => {
  it('adds users with plain passwords or stored hashes, usable from anywhere', async () => {
    const authenticator = await create({
      users: [
        { username: 'alice', password: 's3cret', tags: ['monitoring'] },
        { username: 'bob', passwordHash: await hashPassword('hunter2', cheap) },
      ],
    });
    assert.deepEqual(await authenticator.authenticate(login('alice', 's3cret', '203.0.113.7')), {
      username: 'alice',
      tags: ['monitoring'],
    });
    assert.deepEqual(await authenticator.authenticate(login('bob', 'hunter2', '203.0.113.7', 'AMQPLAIN')), {
      username: 'bob',
      tags: [],
    });
    assert.equal((await refusal(authenticator, login('alice', 'S3cret'))).message, UNKNOWN_OR_WRONG);
    assert.deepEqual(authenticator.usernames(), ['alice', 'bob', 'guest']);
  });

  it('lets a configured guest replace the default one', async () => {
    const authenticator = await create({ users: [{ username: 'guest', password: 'better' }] });
    await refusal(authenticator, login('guest', 'guest'));
    assert.deepEqual(await authenticator.authenticate(login('guest', 'better')), { username: 'guest', tags: [] });
    // Still loopback-only: that is a property of the name, as in RabbitMQ.
    await refusal(authenticator, login('guest', 'better', '10.0.0.5'));
  });

  it('forgets a remembered password when the user changes or goes', async () => {
    const authenticator = await create({ users: [{ username: 'alice', password: 'one' }] });
    await authenticator.authenticate(login('alice', 'one'));
    await authenticator.authenticate(login('alice', 'one'));
    await authenticator.setUser({ username: 'alice', password: 'two' });
    await refusal(authenticator, login('alice', 'one'));
    assert.equal((await authenticator.authenticate(login('alice', 'two'))).username, 'alice');
    assert.equal(authenticator.removeUser('alice'), true);
    assert.equal(authenticator.removeUser('alice'), false);
    await refusal(authenticator, login('alice', 'two'));
  });

  it('refuses bad user definitions with INVALID_ARGUMENT', async () => {
    const authenticator = await create();
    const invalid = (error: unknown): boolean => isBrokerError(error, 'INVALID_ARGUMENT');
    await assert.rejects(authenticator.setUser({ username: '', password: 'x' }), invalid);
    await assert.rejects(authenticator.setUser({ username: 'a' }), invalid);
    await assert.rejects(authenticator.setUser({ username: 'a', password: 'x', passwordHash: 'y' }), invalid);
    await assert.rejects(authenticator.setUser({ username: 'a', passwordHash: 'plain-text' }), invalid);
    await assert.rejects(create({ maxConcurrentHashes: 0 }), invalid);
  });

  it('answers many concurrent logins correctly through the hash gate', async () => {
    const authenticator = await create({
      maxConcurrentHashes: 1,
      users: [{ username: 'alice', password: 'pw' }],
    });
    const attempts = Array.from({ length: 20 }, (_, i) =>
      authenticator.authenticate(login('alice', i % 2 === 0 ? 'pw' : 'wrong')).then(
        () => 'ok',
        (error: unknown) => (isBrokerError(error, 'AUTHENTICATION_FAILED') ? 'refused' : 'other'),
      ),
    );
    const outcomes = await Promise.all(attempts);
    assert.deepEqual(
      outcomes,
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'ok' : 'refused')),
    );
  });
});

describe('DefaultAuthenticator: other mechanisms', () => {
  it('maps ANONYMOUS to guest, from loopback only', async () => {
    const authenticator = await create();
    assert.equal((await authenticator.authenticate(login('', '', '::1', 'ANONYMOUS'))).username, 'guest');
    await refusal(authenticator, login('', '', '10.0.0.5', 'ANONYMOUS'));
  });

  it('maps ANONYMOUS to the configured user, or refuses it', async () => {
    const mapped = await create({ anonymousUser: 'visitor', users: [{ username: 'visitor', password: 'x' }] });
    assert.equal((await mapped.authenticate(login('', '', '10.0.0.5', 'ANONYMOUS'))).username, 'visitor');
    const closed = await create({ anonymousUser: null });
    assert.match((await refusal(closed, login('', '', '127.0.0.1', 'ANONYMOUS'))).message, /anonymous login is not enabled/);
  });

  it('accepts EXTERNAL only when trusted and only for known users', async () => {
    const users = [{ username: 'device-7', password: 'unused' }];
    await refusal(await create({ users }), login('device-7', '', '10.0.0.5', 'EXTERNAL'));
    const trusting = await create({ users, trustExternal: true });
    assert.equal((await trusting.authenticate(login('device-7', '', '10.0.0.5', 'EXTERNAL'))).username, 'device-7');
    await refusal(trusting, login('device-8', '', '10.0.0.5', 'EXTERNAL'));
  });
});
