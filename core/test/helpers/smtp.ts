// Shared with plugins' tests: test/support/smtp.ts.
export * from '../../../test/support/smtp.js';
