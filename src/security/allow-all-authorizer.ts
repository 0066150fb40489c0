import type { Authorizer, Permission, Principal, ResourceRef } from '../core/ports.js';

/**
 * The embedded default: every authenticated principal may configure, write and read everything, as
 * RabbitMQ's default vhost permissions `.* .* .*` for a new user. Authentication is the only gate.
 */
export class AllowAllAuthorizer implements Authorizer {
  authorize(_principal: Principal, _permission: Permission, _resource: ResourceRef): boolean {
    return true;
  }
}
