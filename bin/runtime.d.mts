/** V8 flags every livestream process runs with. */
export declare const NODE_FLAGS: readonly string[];
/** The environment a livestream child process runs with: `env` plus runtime defaults. */
export declare function runtimeEnv(env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
