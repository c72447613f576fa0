/**
 * What leased mode needs of the site database, mirrored into the state table: the parts of
 * the configuration that login and launch use (authentication servers, gateways), local
 * account verifiers (argon2id hashes, groups, MFA secrets) and agent keys (as SHA-256 hashes).
 * Written when the configuration changes; read only while the site database is down.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LeasedSite } from '../../core/leasing/leases.ts';
import type {
  LeasedModeMirror,
  MirroredAccount,
  MirroredAgentKey,
} from '../../core/leasing/ports.ts';
import { batchWrite, type StateTable } from './state-table.ts';

type SiteCopy = LeasedSite & { gatewayIds: Readonly<Record<string, number>> };

const SITE_KEY = { pk: 'mirror#site', sk: 'site' };
const accountKey = (name: string, authServer: string | null) => ({
  pk: `account#${(authServer ?? '(built-in)').toLowerCase()}#${name.toLowerCase()}`,
  sk: 'account',
});
const agentKey = (hash: string) => ({ pk: `agentkey#${hash}`, sk: 'agentkey' });

export class DynamoMirrorStore implements LeasedModeMirror {
  readonly #table: StateTable;
  constructor(table: StateTable) {
    this.#table = table;
  }

  async saveSite(site: SiteCopy): Promise<void> {
    await this.#table.doc.send(
      new PutCommand({
        TableName: this.#table.tableName,
        Item: { ...SITE_KEY, site: JSON.stringify(site) },
      }),
    );
  }

  async loadSite(): Promise<SiteCopy | undefined> {
    const { Item } = await this.#table.doc.send(
      new GetCommand({ TableName: this.#table.tableName, Key: SITE_KEY }),
    );
    return Item ? (JSON.parse(String(Item.site)) as SiteCopy) : undefined;
  }

  async putAccounts(accounts: readonly MirroredAccount[]): Promise<void> {
    await batchWrite(
      this.#table,
      accounts.map((a) => ({
        PutRequest: { Item: { ...accountKey(a.name, a.authServer), ...a, groups: [...a.groups] } },
      })),
    );
  }

  async removeAccounts(
    accounts: readonly { name: string; authServer: string | null }[],
  ): Promise<void> {
    await batchWrite(
      this.#table,
      accounts.map((a) => ({ DeleteRequest: { Key: accountKey(a.name, a.authServer) } })),
    );
  }

  async findAccount(name: string, authServer: string | null): Promise<MirroredAccount | undefined> {
    const { Item } = await this.#table.doc.send(
      new GetCommand({ TableName: this.#table.tableName, Key: accountKey(name, authServer) }),
    );
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, ...account } = Item;
    return account as MirroredAccount;
  }

  async putAgentKeys(keys: readonly MirroredAgentKey[]): Promise<void> {
    await batchWrite(
      this.#table,
      keys.map((k) => ({ PutRequest: { Item: { ...agentKey(k.keyHash), ...k } } })),
    );
  }

  async removeAgentKeys(keyHashes: readonly string[]): Promise<void> {
    await batchWrite(
      this.#table,
      keyHashes.map((h) => ({ DeleteRequest: { Key: agentKey(h) } })),
    );
  }

  async findAgentKey(keyHash: string): Promise<MirroredAgentKey | undefined> {
    const { Item } = await this.#table.doc.send(
      new GetCommand({ TableName: this.#table.tableName, Key: agentKey(keyHash) }),
    );
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, ...key } = Item;
    return key as MirroredAgentKey;
  }
}
