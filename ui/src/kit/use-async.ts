import { ref, shallowRef, type Ref, type ShallowRef } from 'vue';

export interface AsyncState<T> {
  data: ShallowRef<T | undefined>;
  loading: Ref<boolean>;
  error: ShallowRef<unknown>;
  /** Runs the loader again; keeps the old data while loading. */
  reload(): Promise<void>;
}

/** Loading / error / data for one loader, for skeletons and error states. Runs at once unless `immediate: false`. */
export function useAsync<T>(loader: () => Promise<T>, opts: { immediate?: boolean } = {}): AsyncState<T> {
  const data = shallowRef<T>();
  const loading = ref(false);
  const error = shallowRef<unknown>(null);
  let seq = 0;
  const reload = async () => {
    const mine = ++seq;
    loading.value = true;
    error.value = null;
    try {
      const v = await loader();
      if (mine === seq) data.value = v;
    } catch (e) {
      if (mine === seq) error.value = e;
    } finally {
      if (mine === seq) loading.value = false;
    }
  };
  if (opts.immediate !== false) void reload();
  return { data, loading, error, reload };
}
