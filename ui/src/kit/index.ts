/**
 * The UI kit — what `@mpanel/sdk/ui` is at run time (the shell's import map
 * points plugins' `import … from '@mpanel/sdk/ui'` here), so plugin panels
 * look and behave like the shell's own pages.
 */
import { useToasts } from '../stores/toasts';
export { default as MpButton } from './MpButton.vue';
export { default as MpDataTable } from './MpDataTable.vue';
export { default as MpField } from './MpField.vue';
export { default as MpSchemaForm } from './MpSchemaForm.vue';
export { default as MpDialog } from './MpDialog.vue';
export { default as MpConfirmDanger } from './MpConfirmDanger.vue';
export { default as MpSkeleton } from './MpSkeleton.vue';
export { default as MpEmptyState } from './MpEmptyState.vue';
export { default as MpErrorState } from './MpErrorState.vue';
export { default as MpErrorBoundary } from './MpErrorBoundary.vue';
export { default as MpBadge } from './MpBadge.vue';
export { default as MpPageHeader } from './MpPageHeader.vue';
export { useAsync, type AsyncState } from './use-async';
export { fieldsOf, toFormState, fromFormState, type JsonSchemaLike, type FormFieldSpec } from './schema-form';
export { ApiError, isApiError, errorMessage } from '../api/client';

/** Toasts (success / error with the server's problem detail) from inside any component. */
export function useToast(): { success(message: string): void; error(error: unknown): void; info(message: string): void } {
  const t = useToasts();
  return { success: (m) => void t.success(m), error: (e) => void t.error(e), info: (m) => void t.info(m) };
}
