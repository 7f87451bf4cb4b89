/**
 * Everything one enabled plugin registered, as undo functions. Disable runs
 * them newest first; one failing undo never stops the others.
 */
export class Registrations {
  private undos: Array<{ what: string; undo: () => void | Promise<void> }> = [];

  add(what: string, undo: () => void | Promise<void>): () => void {
    const entry = { what, undo };
    this.undos.push(entry);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.undos = this.undos.filter((u) => u !== entry);
      void undo();
    };
  }

  get size(): number {
    return this.undos.length;
  }

  list(): string[] {
    return this.undos.map((u) => u.what);
  }

  /** Undoes everything; returns the errors of undos that threw. */
  async undoAll(): Promise<Array<{ what: string; error: unknown }>> {
    const errors: Array<{ what: string; error: unknown }> = [];
    const undos = this.undos.reverse();
    this.undos = [];
    for (const u of undos) {
      try {
        await u.undo();
      } catch (error) {
        errors.push({ what: u.what, error });
      }
    }
    return errors;
  }
}
