// Moved to src/domain/database-errors.ts (issue 19: a pure classification, used below the data layer too).
export * from '../../domain/database-errors';
