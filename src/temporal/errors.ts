// Moved to src/domain/temporal-errors.ts (issue 19: a pure classification the data layer's inbox drain uses too).
export * from '../domain/temporal-errors';
