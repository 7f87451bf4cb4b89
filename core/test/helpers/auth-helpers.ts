import { expect } from 'vitest';
import type { ApiResponse } from './client.js';
import { sql } from './db.js';
import type { TestPanel } from './panel.js';

/** Asserts an RFC 9457 problem response with the given status and code. */
export function expectProblem(res: ApiResponse, status: number, code: string): void {
  expect(res.status, `${res.status} ${res.text}`).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body.code).toBe(code);
  expect(res.body.status).toBe(status);
  expect(res.body.type).toBe(`urn:mpanel:problem:${code}`);
}

export interface AuditRow {
  seq: number;
  action: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  actor_label: string | null;
  target: string | null;
  tenant_id: string | null;
  details: Record<string, any>;
}

/** Audit entries of one action, oldest first (read straight from the database). */
export async function auditOf(tp: TestPanel, action: string): Promise<AuditRow[]> {
  return sql<AuditRow & Record<string, any>>(
    tp.db!.url,
    'select seq::int as seq, action, outcome, actor_type, actor_id, actor_label, target, tenant_id, details from audit_entry where action = $1 order by seq',
    [action],
  );
}

/** The raw Set-Cookie header of one cookie in a response. */
export function setCookie(res: ApiResponse, name: string): string | undefined {
  return res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
}

/** Everything in the database as one string (to prove a secret is stored nowhere). */
export async function dumpDatabase(tp: TestPanel): Promise<string> {
  const tables = await sql<{ table_name: string }>(tp.db!.url, `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`);
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const rows = await sql(tp.db!.url, `select * from "${table_name}"`);
    parts.push(`${table_name}: ${JSON.stringify(rows)}`);
  }
  return parts.join('\n');
}
