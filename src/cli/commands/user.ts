import type { Command } from 'commander';
import { runMigrations } from '../../db/core/migrate';
import { listOperators } from '../../db/operators/operators';
import { findTenantsBySlug } from '../../db/tenants/lookup';
import { addUser, rotateKeys, setUserAccess } from '../../services/admin';
import { ServiceError } from '../../services/errors';
import { recordCliAudit } from '../audit';
import type { Role } from '../../domain/api-keys';
import { CliError, type CliContext } from '../context';

const ROLES: Role[] = ['ADMIN', 'SUPERVISOR', 'AGENT'];

export function registerUserCommands(program: Command, ctx: () => CliContext) {
  const user = program.command('user').description('operators (agents, supervisors, admins) and their API keys');

  user
    .command('add')
    .description('add an operator and print their API key (shown once)')
    .requiredOption('--tenant <slug>', 'tenant the operator works for')
    .requiredOption('--name <name>', 'display name (agents sign their messages with it)')
    .option('--role <role>', 'ADMIN, SUPERVISOR or AGENT', 'AGENT')
    .option('--department <name>', 'department queue (support, billing, sales, collections)')
    .option('--email <email>', 'contact e-mail')
    .action(async (o: { tenant: string; name: string; role: string; department?: string; email?: string }) => {
      const role = o.role.toUpperCase() as Role;
      if (!ROLES.includes(role)) throw new CliError(`--role must be one of ${ROLES.join(', ')}`);
      const database = await ctx().database();
      try {
        await runMigrations(database.url, { embedded: database.embedded });
        const [tenant] = await findTenantsBySlug(database.db, o.tenant);
        if (!tenant) throw new CliError(`no tenant ${o.tenant} (causeway tenant list)`);
        const created = await addUser(database, {
          tenantId: tenant.id,
          name: o.name,
          role,
          department: o.department ?? null,
          email: o.email ?? null,
        });
        await recordCliAudit(database.db, {
          tenantId: tenant.id,
          action: 'user.create',
          targetType: 'users',
          targetId: created.user.id,
          details: { role },
        });
        console.log(`user ${created.user.id} (${role}) added to ${o.tenant}`);
        console.log(`API key (store it now, it is not shown again): ${created.apiKey}`);
      } finally {
        await database.close();
      }
    });

  user
    .command('rotate-key')
    .description("revoke a user's API keys and print a new one (shown once)")
    .requiredOption('--id <userId>', 'the user (causeway user list)')
    .option('--revoke-only', 'revoke without issuing a new key', false)
    .action(async (o: { id: string; revokeOnly: boolean }) => {
      if (!/^[0-9a-f-]{36}$/.test(o.id)) throw new CliError('--id must be a user id (a UUID)');
      const database = await ctx().database();
      try {
        const result = await rotateKeys(database, o.id, o.revokeOnly);
        await recordCliAudit(database.db, {
          tenantId: result.tenantId,
          action: o.revokeOnly ? 'key.revoke' : 'key.rotate',
          targetType: 'users',
          targetId: o.id,
          details: { revoked: result.revoked },
        });
        console.log(`revoked ${result.revoked} key(s)`);
        if (result.apiKey) console.log(`new API key (store it now, it is not shown again): ${result.apiKey}`);
      } finally {
        await database.close();
      }
    });

  for (const action of ['disable', 'enable'] as const)
    user
      .command(`${action} <userId>`)
      .description(
        action === 'disable'
          ? 'disable an operator: their API keys and console sessions stop working at once'
          : 'enable a disabled operator again (their old sessions stay ended)',
      )
      .requiredOption('--tenant <slug>', 'the tenant the user belongs to')
      .action(async (userId: string, o: { tenant: string }) => {
        if (!/^[0-9a-f-]{36}$/i.test(userId)) throw new CliError('<userId> must be a user id (a UUID)');
        const database = await ctx().database();
        try {
          const [tenant] = await findTenantsBySlug(database.db, o.tenant);
          if (!tenant) throw new CliError(`no tenant ${o.tenant} (causeway tenant list)`);
          const result = await setUserAccess(database, {
            tenantId: tenant.id,
            userId,
            disabled: action === 'disable',
          }).catch((error: unknown) => {
            // This command names the tenant, so its answer does too (the service's is the API's "no such user").
            if (error instanceof ServiceError && error.code === 'not_found')
              throw new CliError(`no user ${userId} in tenant ${o.tenant}`);
            throw error;
          });
          await recordCliAudit(database.db, {
            tenantId: tenant.id,
            action: `user.${action}`,
            targetType: 'users',
            targetId: userId,
            details: { changed: result.changed },
          });
          console.log(
            result.changed
              ? `user ${userId} (${result.name}, ${result.role}) ${action}d`
              : `user ${userId} (${result.name}) was ${action}d already`,
          );
        } finally {
          await database.close();
        }
      });

  user
    .command('list')
    .description('list operators')
    .option('--tenant <slug>', 'only this tenant')
    .action(async (o: { tenant?: string }) => {
      const database = await ctx().database();
      try {
        const rows = await listOperators(database.db, o.tenant);
        if (rows.length === 0) return console.log('no operators yet (causeway user add)');
        console.table(rows.map((r) => ({ ...r, disabled: r.disabled ? 'yes' : '' })));
      } finally {
        await database.close();
      }
    });
}
