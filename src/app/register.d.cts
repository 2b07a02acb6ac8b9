/** Names an object so that nodescope's trace_named_process(name) finds it. Returns the object. */
export declare function register<T extends object>(name: string, object: T): T;
