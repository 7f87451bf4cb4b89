import { createPrivateKey, createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { PluginContext } from '@mpanel/sdk';
import { S, rows } from '../db.js';

/** A command request to an agent; the fields the signature covers. */
export interface CommandRequest {
  id: string;
  agentId: string;
  name: string;
  issuedAt: number;
  expiresAt: number;
  timeoutMs: number;
}

/** The exact bytes signed; the agent builds the same (agent/src/commands/signature.ts). */
export function commandSigningInput(c: CommandRequest): Buffer {
  return Buffer.from(['mpanel-command-v1', c.id, c.agentId, c.name, String(c.issuedAt), String(c.expiresAt), String(c.timeoutMs)].join('\n'), 'utf8');
}

/**
 * The panel's Ed25519 key pair. Agents pin the public key at enrolment and
 * run only commands signed with the private key, which is stored sealed
 * (ctx.secrets: the master key is not in the database).
 */
export class PanelKeys {
  private constructor(readonly publicKey: string, private readonly privateKey: KeyObject) {}

  static async load(ctx: PluginContext<any>): Promise<PanelKeys> {
    const em = ctx.db.em();
    let [row] = await rows(em, `select public_key, private_key_sealed from ${S}.panel_key where id = 1`);
    if (!row) {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const pub = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
      const priv = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
      // Two nodes starting at once: the first insert wins, both use it.
      await rows(em, `insert into ${S}.panel_key (id, public_key, private_key_sealed) values (1, ?, ?) on conflict (id) do nothing`, [pub, ctx.secrets.seal(priv)]);
      [row] = await rows(em, `select public_key, private_key_sealed from ${S}.panel_key where id = 1`);
    }
    const privateKey = createPrivateKey({ key: Buffer.from(ctx.secrets.open(row!.private_key_sealed), 'base64'), format: 'der', type: 'pkcs8' });
    return new PanelKeys(row!.public_key, privateKey);
  }

  get fingerprint(): string {
    return `sha256:${createHash('sha256').update(Buffer.from(this.publicKey, 'base64')).digest('hex')}`;
  }

  sign(c: CommandRequest): string {
    return sign(null, commandSigningInput(c), this.privateKey).toString('base64');
  }
}
