/** Turns a JSON Schema (an object schema) into form fields, and checks values the way the server will. */
export interface JsonSchemaLike {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchemaLike>;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  items?: JsonSchemaLike;
  [k: string]: unknown;
}

export type FieldKind = 'text' | 'textarea' | 'password' | 'email' | 'number' | 'integer' | 'boolean' | 'select' | 'list' | 'json';

export interface FormFieldSpec {
  name: string;
  label: string;
  kind: FieldKind;
  schema: JsonSchemaLike;
  required: boolean;
  options?: unknown[];
}

const typeOf = (s: JsonSchemaLike) => (Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type);

export function fieldsOf(schema: JsonSchemaLike | null | undefined): FormFieldSpec[] {
  const props = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  return Object.entries(props).map(([name, s]) => {
    const t = typeOf(s);
    let kind: FieldKind = 'text';
    if (s.enum) kind = 'select';
    else if (t === 'boolean') kind = 'boolean';
    else if (t === 'integer') kind = 'integer';
    else if (t === 'number') kind = 'number';
    else if (t === 'array' && typeOf(s.items ?? {}) === 'string') kind = 'list';
    else if (t === 'object' || t === 'array') kind = 'json';
    else if (s.format === 'password' || s.writeOnly || /secret|password|token/i.test(name)) kind = 'password';
    else if (s.format === 'email') kind = 'email';
    else if ((s.maxLength ?? 0) > 200) kind = 'textarea';
    return { name, label: s.title ?? name, kind, schema: s, required: required.has(name), options: s.enum };
  });
}

/** Form state (strings for inputs) from values, falling back to schema defaults. */
export function toFormState(fields: FormFieldSpec[], values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = values[f.name] !== undefined ? values[f.name] : f.schema.default;
    if (f.kind === 'boolean') out[f.name] = !!v;
    else if (f.kind === 'list') out[f.name] = Array.isArray(v) ? v.join('\n') : '';
    else if (f.kind === 'json') out[f.name] = v === undefined ? '' : JSON.stringify(v, null, 2);
    else out[f.name] = v === undefined || v === null ? '' : String(v);
  }
  return out;
}

/** Values to send, and per-field errors (empty when valid). */
export function fromFormState(fields: FormFieldSpec[], state: Record<string, unknown>): { values: Record<string, unknown>; errors: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const raw = state[f.name];
    const s = f.schema;
    if (f.kind === 'boolean') {
      values[f.name] = !!raw;
      continue;
    }
    const text = String(raw ?? '');
    if (text === '') {
      if (f.required) errors[f.name] = 'is required';
      continue;
    }
    if (f.kind === 'integer' || f.kind === 'number') {
      const n = Number(text);
      if (!Number.isFinite(n) || (f.kind === 'integer' && !Number.isInteger(n))) errors[f.name] = f.kind === 'integer' ? 'must be a whole number' : 'must be a number';
      else if (s.minimum !== undefined && n < s.minimum) errors[f.name] = `must be at least ${s.minimum}`;
      else if (s.maximum !== undefined && n > s.maximum) errors[f.name] = `must be at most ${s.maximum}`;
      else values[f.name] = n;
      continue;
    }
    if (f.kind === 'list') {
      values[f.name] = text.split(/[\n,]/).map((x) => x.trim()).filter(Boolean);
      continue;
    }
    if (f.kind === 'json') {
      try {
        values[f.name] = JSON.parse(text);
      } catch {
        errors[f.name] = 'is not valid JSON';
      }
      continue;
    }
    if (f.kind === 'select') {
      const hit = (f.options ?? []).find((o) => String(o) === text);
      values[f.name] = hit ?? text;
      continue;
    }
    if (s.minLength !== undefined && text.length < s.minLength) errors[f.name] = `must have at least ${s.minLength} characters`;
    else if (s.maxLength !== undefined && text.length > s.maxLength) errors[f.name] = `must have at most ${s.maxLength} characters`;
    else if (s.pattern && !new RegExp(s.pattern, 'u').test(text)) errors[f.name] = `must match ${s.pattern}`;
    else values[f.name] = text;
  }
  return { values, errors };
}
