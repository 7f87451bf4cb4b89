import { generateKeyPairSync, sign } from 'node:crypto';
import { expect, it } from 'vitest';
import { commandSigningInput as panelInput } from '../src/keys/panel-keys.js';
import { commandSigningInput as agentInput, verifyCommand, panelKey } from '../../../agent/src/commands/signature.js';

/**
 * The plugin (which may import only the SDK) and the agent (a package of its
 * own) each build the bytes a command signature covers. This pins the two
 * copies to each other, byte for byte, beyond what the end-to-end command
 * tests show.
 */
it('the panel signs exactly the bytes the agent verifies', () => {
  const requests = [
    { id: '0b7f4c3e-2a1d-4e5f-8a9b-1c2d3e4f5a6b', agentId: '5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9', name: 'restart-nginx', issuedAt: 1795318161131, expiresAt: 1795318221131, timeoutMs: 30000 },
    { id: 'x', agentId: 'y', name: 'naïve\nname—with ✓ unicode', issuedAt: 0, expiresAt: 1, timeoutMs: 1 },
  ];
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  for (const r of requests) {
    expect(panelInput(r).equals(agentInput(r))).toBe(true);
    const sig = sign(null, panelInput(r), privateKey).toString('base64');
    expect(verifyCommand({ ...r, sig }, panelKey(spki))).toBe(true);
    expect(verifyCommand({ ...r, timeoutMs: r.timeoutMs + 1, sig }, panelKey(spki))).toBe(false);
  }
});
