import { className, recordToText, typeName, type ResourceRecord } from './codec.js';

/** A record in presentation form, field by field (`dns query --json`, the API's DnsRecord): `data` as in a zone file. */
export function recordJson(r: ResourceRecord): { name: string; ttl: number; class: string; type: string; data: string } {
  return { name: r.name === '' ? '.' : `${r.name}.`, ttl: r.ttl, class: className(r.class), type: typeName(r.type), data: recordToText(r).split('\t').slice(4).join('\t') };
}
