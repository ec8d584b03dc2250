// generated from schema/parameters.schema.json by scripts/gen-types.ts; do not edit; run `npm run gen:types`

/**
 * A parameter value.
 */
export type Value =
  | string
  | number
  | boolean
  | Value[]
  | {
      [k: string]: Value;
    };

/**
 * Parameters of the project, referenced by nodes as params:<dotted.key>. Values may be nested mappings, lists, strings, numbers and booleans; `kiln run --params a.b=value` overrides them.
 */
export interface Parameters {
  [k: string]: Value;
}
