import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bindError } from './bind.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

describe('bindError', () => {
  const target = { host: '10.9.8.7', port: 80, portSetting: '--http-port', hostSetting: '--bind' };

  it('words each bind failure for the operator, naming the setting to change', () => {
    assert.equal(bindError(errno('EADDRINUSE'), target).message, 'port 80 on 10.9.8.7 is already in use (--http-port)');
    assert.equal(bindError(errno('EACCES'), target).message, 'no permission to listen on port 80 on 10.9.8.7 (--http-port)');
    assert.equal(bindError(errno('EADDRNOTAVAIL'), target).message, 'address 10.9.8.7 is not available on this machine (--bind)');
    assert.equal(bindError(errno('ENOTFOUND'), target).message, 'cannot resolve host 10.9.8.7 (--bind)');
    assert.equal(bindError(errno('EWHATEVER'), target).message, 'cannot listen on 10.9.8.7 port 80 (--http-port): EWHATEVER');
    assert.equal(bindError(errno('EADDRINUSE'), target).code, 'PORT_IN_USE');
  });
});
