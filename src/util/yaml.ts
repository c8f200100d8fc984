/**
 * YAML with sorted keys: generated bootstraps and golden files must not change when only the order in
 * which the translation happened to set fields changes, so diffs show real differences only.
 */
import { stringify } from 'yaml';

export function toYaml(obj: unknown): string {
  return stringify(obj, { sortMapEntries: true, lineWidth: 0, aliasDuplicateObjects: false });
}
