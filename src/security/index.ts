export { AllowAllAuthorizer } from './allow-all-authorizer.js';
export { DefaultAuthenticator } from './default-authenticator.js';
export type { DefaultAuthenticatorOptions, UserDefinition } from './default-authenticator.js';
export { createLoopbackMatcher } from './loopback.js';
export { DEFAULT_SCRYPT_COST, hashPassword, parsePasswordHash, verifyPassword } from './password-hash.js';
export type { PasswordHash, ScryptCost } from './password-hash.js';
