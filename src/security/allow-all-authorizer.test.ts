import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AllowAllAuthorizer } from './allow-all-authorizer.js';

describe('AllowAllAuthorizer', () => {
  it('allows every permission on every kind of resource', () => {
    const authorizer = new AllowAllAuthorizer();
    const principal = { username: 'anyone', tags: [] };
    for (const permission of ['configure', 'write', 'read'] as const) {
      for (const kind of ['exchange', 'queue', 'stream', 'topic'] as const) {
        assert.equal(authorizer.authorize(principal, permission, { kind, name: 'x', routingKey: 'a.b' }), true);
      }
    }
  });
});
