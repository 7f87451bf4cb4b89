/**
 * `@mpanel/sdk/ui` — the UI kit plugin panels use so they look native.
 *
 * At run time this module is the web shell's own build: the shell's import
 * map resolves `@mpanel/sdk/ui` (like `vue`, `pinia` and `vue-router`) to the
 * copy the shell uses, so keep it external when bundling (the
 * `@mpanel/sdk/vite` preset does). The components are Vue 3 components.
 */
import type { DefineComponent, Ref, ShallowRef } from 'vue';
import type { ShellApiError } from '../dist/ui.js';

type Component<Props = {}> = DefineComponent<Props>;

export interface TableColumn<Row = any> {
  key: string;
  label: string;
  sortable?: boolean;
  format?: (value: any, row: Row) => string;
  class?: string;
}

/** Button: `variant` primary | danger | ghost; `busy` shows a spinner and disables it. */
export declare const MpButton: Component<{ variant?: 'primary' | 'danger' | 'ghost' | 'default'; busy?: boolean; type?: 'button' | 'submit'; disabled?: boolean }>;
/**
 * Data table with client-side sorting and pagination, a loading skeleton,
 * empty and error states; `hasMore` + `@more` for server-side paging.
 * Slot `#cell-<key>="{ row, value }"` renders a cell.
 */
export declare const MpDataTable: Component<{
  columns: TableColumn[]; rows: Record<string, any>[]; rowKey?: string; loading?: boolean; error?: unknown; pageSize?: number;
  emptyTitle?: string; emptyMessage?: string; hasMore?: boolean; loadingMore?: boolean; caption?: string;
}>;
/** A labelled form field around one input (default slot), with hint and error. */
export declare const MpField: Component<{ label: string; hint?: string; error?: string | null; required?: boolean }>;
/** A form generated from a JSON Schema (object); emits `submit` with checked values. */
export declare const MpSchemaForm: Component<{ schema: Record<string, unknown> | null; values?: Record<string, unknown>; busy?: boolean; submitLabel?: string; serverErrors?: Array<{ pointer: string; message: string }> }>;
/** Modal dialog (focus trapped, Escape closes); slots: default, `#actions`. Emits `close`. */
export declare const MpDialog: Component<{ open: boolean; title: string; wide?: boolean }>;
/** Confirms a destructive action; with `confirmText` the user must type it. Emits `confirm`, `close`. */
export declare const MpConfirmDanger: Component<{ open: boolean; title: string; message?: string; confirmText?: string; actionLabel?: string; busy?: boolean }>;
export declare const MpSkeleton: Component<{ lines?: number; height?: string }>;
export declare const MpEmptyState: Component<{ title: string; message?: string }>;
/** Error card with the server's problem detail and an optional retry. */
export declare const MpErrorState: Component<{ error: unknown; title?: string; retry?: () => void }>;
/** Catches errors of what it wraps and shows an error card instead. */
export declare const MpErrorBoundary: Component<{ label?: string; resetKey?: unknown }>;
export declare const MpBadge: Component<{ tone?: 'ok' | 'bad' | 'warn' | 'info' | 'muted' }>;
export declare const MpPageHeader: Component<{ title: string; subtitle?: string }>;

export interface AsyncState<T> {
  data: ShallowRef<T | undefined>;
  loading: Ref<boolean>;
  error: ShallowRef<unknown>;
  reload(): Promise<void>;
}
/** Loading / error / data of one loader (for skeletons and error states). */
export declare function useAsync<T>(loader: () => Promise<T>, opts?: { immediate?: boolean }): AsyncState<T>;
/** Toasts from inside any component (errors show the server's problem detail). */
export declare function useToast(): { success(message: string): void; error(error: unknown): void; info(message: string): void };
/** A human sentence for any error (problem detail + field messages). */
export declare function errorMessage(error: unknown): string;
export declare function isApiError(error: unknown): error is ShellApiError;
export declare class ApiError extends Error implements ShellApiError {
  status: number;
  code: string;
  detail: string;
  errors?: Array<{ pointer: string; message: string }>;
  [extension: string]: unknown;
}

export interface JsonSchemaLike {
  type?: string | string[];
  title?: string;
  properties?: Record<string, JsonSchemaLike>;
  required?: string[];
  [k: string]: unknown;
}
export interface FormFieldSpec {
  name: string;
  label: string;
  kind: 'text' | 'textarea' | 'password' | 'email' | 'number' | 'integer' | 'boolean' | 'select' | 'list' | 'json';
  schema: JsonSchemaLike;
  required: boolean;
  options?: unknown[];
}
export declare function fieldsOf(schema: JsonSchemaLike | null | undefined): FormFieldSpec[];
export declare function toFormState(fields: FormFieldSpec[], values: Record<string, unknown>): Record<string, unknown>;
export declare function fromFormState(fields: FormFieldSpec[], state: Record<string, unknown>): { values: Record<string, unknown>; errors: Record<string, string> };

export type { PluginShell, PluginUiModule, ShellApi, ShellApiError } from '../dist/ui.js';
