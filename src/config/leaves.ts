import type { z } from 'zod';
import { configSchema } from './schema';

export type LeafKind = 'string' | 'int' | 'number' | 'bool' | 'json' | 'list' | 'objects';

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  checks?: { _zod: { def: { check?: string; format?: string } } }[];
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Every setting of the schema (a leaf: not an object of settings), with the kind of value it takes. */
export function configLeaves(schema: z.ZodType = configSchema): { path: string; kind: LeafKind }[] {
  const out: { path: string; kind: LeafKind }[] = [];
  const walk = (s: z.ZodType, path: string[]) => {
    let d = defOf(s);
    while (['default', 'prefault', 'optional', 'nullable', 'pipe'].includes(d.type)) d = defOf((d.innerType ?? d.in)!);
    if (d.type === 'object') {
      for (const [k, v] of Object.entries(d.shape!)) walk(v, [...path, k]);
      return;
    }
    let kind: LeafKind;
    if (d.type === 'number')
      kind = (d.checks ?? []).some((c) => c._zod.def.check === 'number_format' && /int/.test(c._zod.def.format ?? '')) ? 'int' : 'number';
    else if (d.type === 'boolean') kind = 'bool';
    else if (d.type === 'record') kind = 'json';
    else if (d.type === 'array') kind = defOf(d.element!).type === 'object' ? 'objects' : 'list';
    else kind = 'string';
    out.push({ path: path.join('.'), kind });
  };
  walk(schema, []);
  return out;
}
