/**
 * The billing core: pure, I/O-free functions over money, tariffs, sessions,
 * charges and ledger entries. Storage, the HTTP API and the relay's session
 * accounting call these; nothing here reads a clock, a file or a socket.
 * The rules are written down in docs/billing.md.
 */
export * from './billing-error.js';
export * from './currency.js';
export * from './money.js';
export { CurrencyTotals } from './currency-totals.js';
export * from './tariff.js';
export * from './rating.js';
export * from './charge.js';
export * from './credit.js';
export * from './ledger.js';
export * from './bill-period.js';
export * from './bill.js';
export * from './settlement.js';
export { csvField, csvRecord, type CsvValue, type CsvCell } from './csv.js';
export { divideRoundHalfUp } from './safe-integer.js';
