// Public surface of the diagnostics module.
export * from './types.ts';
export * from './diagnostic.ts';
export * from './render.ts';
export { suggest, didYouMean, editDistance } from './didyoumean.ts';
export { catalogue, type Code } from './catalogue.ts';
