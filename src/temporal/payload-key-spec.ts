// Moved to src/config/payload-key-spec.ts (issue 19: config parses it, below any Temporal code).
export * from '../config/payload-key-spec';
