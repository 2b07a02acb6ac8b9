// Every change the agent makes inside the target goes through this table, so that `uninstall()` can undo all
// of them: method patches restore the exact original property descriptor, subscriptions unsubscribe.
// A wrapper stays correct if someone patches over it after us: on undo, when ours is no longer the visible
// value, it is left in place but switched to a pass-through, since removing it would also remove theirs.

export type Undo = () => void;

export class PatchTable {
  private undos: Undo[] = [];
  active = true;

  /**
   * Replaces `target[key]` with `make(original)`. The wrapper must call the original through `this.active`
   * checks itself (see `passThrough`), so that a wrapper left behind after undo does nothing but delegate.
   */
  patch<T extends object, K extends keyof T>(target: T, key: K, make: (original: T[K]) => T[K]): Undo {
    const own = Object.getOwnPropertyDescriptor(target, key);
    const original = target[key];
    const wrapper = make(original);
    Object.defineProperty(target, key, { value: wrapper, writable: true, configurable: true, enumerable: own?.enumerable ?? false });
    const undo = () => {
      if (target[key] !== wrapper) return;
      if (own) Object.defineProperty(target, key, own);
      else delete target[key];
    };
    this.undos.push(undo);
    return undo;
  }

  add(undo: Undo): Undo {
    this.undos.push(undo);
    return undo;
  }

  /** Undoes some patches now (a trace stopped on its own), leaving the others in place. */
  undo(some: Undo[]): void {
    for (const undo of some.reverse()) {
      const at = this.undos.indexOf(undo);
      if (at < 0) continue;
      this.undos.splice(at, 1);
      try {
        undo();
      } catch {
        // never into the target
      }
    }
  }

  undoAll(): void {
    this.active = false;
    for (const undo of this.undos.splice(0).reverse()) {
      try {
        undo();
      } catch {
        // Undo must never throw into the target; the remaining undos still run.
      }
    }
  }
}
