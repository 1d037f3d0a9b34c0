/**
 * The simulator's state: records of every object type, their associations, the property
 * definitions, the owners and the search index (which lags behind the records by
 * `searchIndexLagMs`). Every change reports an {@link ObjectChange} (the raw material of webhooks).
 *
 * The store enforces what HubSpot enforces on data: property existence and types, read-only
 * properties, required properties on create and unique contact emails. Request-shape checks belong
 * to the routes.
 */
import {
  contactExistsError,
  invalidInputError,
  type PropertyIssue,
  propertyValuesError,
} from "./simulator-errors.ts";
import {
  associationDefinition,
  OBJECT_TYPE_NAMES,
  OBJECT_TYPES,
  standardProperties,
} from "./simulator-schema.ts";
import type {
  HubSpotObjectType,
  HubSpotSimulatorObject,
  HubSpotSimulatorOwner,
  HubSpotSimulatorProperty,
} from "./simulator-types.ts";
import { checkPropertyValue, formatInstant, propertyValueText } from "./simulator-values.ts";

/** Who made a change: `INTEGRATION` + app id for API writes, `CRM_UI` + `userId:<id>` for the UI. */
export interface ChangeOrigin {
  changeSource: string;
  sourceId: string;
}

/** A change to a record, reported to the webhook layer. */
export interface ObjectChange {
  kind: "creation" | "propertyChange" | "deletion";
  objectType: HubSpotObjectType;
  objectId: string;
  propertyName?: string;
  propertyValue?: string;
  origin: ChangeOrigin;
  occurredAt: number;
}

/** A record as the search index holds it. */
export interface SearchSnapshot {
  id: string;
  properties: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  /**
   * The ids of the associated records by object type, as the index saw them (the
   * `associations.<type>` pseudo-properties of search). Absent on snapshots made outside the index.
   */
  associations?: Partial<Record<HubSpotObjectType, string[]>>;
}

interface SearchVersion {
  visibleAt: number;
  /** null: the record is not in the index (archived). */
  snapshot: SearchSnapshot | null;
}

/** One value in a property's history (`propertiesWithHistory`). */
export interface PropertyHistoryEntry {
  value: string;
  timestamp: number;
  /** The change source of the write (`INTEGRATION`, `CRM_UI`), or `CALCULATED` for values HubSpot sets. */
  sourceType: string;
  sourceId: string | undefined;
}

/** A record. */
export interface StoredObject {
  id: string;
  objectType: HubSpotObjectType;
  properties: Map<string, string>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt: number | undefined;
  searchVersions: SearchVersion[];
  /** Every value each property has had, oldest first. */
  history: Map<string, PropertyHistoryEntry[]>;
}

/** Normalised property values: a string to store, or null to clear. */
export type PropertyValues = Map<string, string | null>;

export interface SimulatorStoreOptions {
  now: () => Date;
  portalId: number;
  owners: HubSpotSimulatorOwner[];
  searchIndexLagMs: number;
  onChange: (change: ObjectChange) => void;
}

const FIRST_ID = 1001;

export class SimulatorStore {
  readonly owners: HubSpotSimulatorOwner[];
  private readonly options: SimulatorStoreOptions;
  private objects = new Map<HubSpotObjectType, Map<string, StoredObject>>();
  /** `type:id` → `type:id` → association type ids. */
  private links = new Map<string, Map<string, Set<number>>>();
  private definitions = new Map<HubSpotObjectType, Map<string, HubSpotSimulatorProperty>>();
  private nextId = FIRST_ID;

  constructor(options: SimulatorStoreOptions) {
    this.options = options;
    this.owners = options.owners;
    this.reset();
  }

  /** Back to an empty account with the standard properties. */
  reset(): void {
    this.objects = new Map(OBJECT_TYPE_NAMES.map((type) => [type, new Map()]));
    this.links = new Map();
    const createdAt = formatInstant(Date.UTC(2019, 7, 6, 2, 41, 52, 16));
    this.definitions = new Map(
      OBJECT_TYPE_NAMES.map((type) => [
        type,
        new Map(standardProperties(type, createdAt).map((definition) => [definition.name, definition])),
      ]),
    );
    this.nextId = FIRST_ID;
  }

  now(): number {
    return this.options.now().getTime();
  }

  // ------------------------------------------------------------------ property definitions

  /** The live definition of a property, if any. */
  property(objectType: HubSpotObjectType, name: string): HubSpotSimulatorProperty | undefined {
    const definition = this.definitions.get(objectType)?.get(name);
    return definition === undefined || definition.archived ? undefined : definition;
  }

  /** Every definition (archived ones only when asked), in creation order. */
  properties(objectType: HubSpotObjectType, archived = false): HubSpotSimulatorProperty[] {
    return [...(this.definitions.get(objectType)?.values() ?? [])].filter(
      (definition) => definition.archived === archived,
    );
  }

  /** Any definition by name, archived or not. */
  anyProperty(objectType: HubSpotObjectType, name: string): HubSpotSimulatorProperty | undefined {
    return this.definitions.get(objectType)?.get(name);
  }

  putProperty(objectType: HubSpotObjectType, definition: HubSpotSimulatorProperty): void {
    this.definitions.get(objectType)?.set(definition.name, definition);
  }

  private ownerIds(): Set<string> {
    return new Set(this.owners.filter((owner) => !owner.archived).map((owner) => owner.id));
  }

  /**
   * Checks a `properties` object from a request. Returns the normalised values; throws HubSpot's 400
   * listing every invalid property (unknown, read-only, wrong type or option, and, on create, the
   * missing required ones).
   */
  checkProperties(
    objectType: HubSpotObjectType,
    raw: Record<string, unknown>,
    mode: "create" | "update",
  ): PropertyValues {
    const values: PropertyValues = new Map();
    const issues: PropertyIssue[] = [];
    const ownerIds = this.ownerIds();
    for (const [name, rawValue] of Object.entries(raw)) {
      const text = propertyValueText(rawValue);
      if (text === undefined) {
        throw invalidInputError(
          `Cannot deserialize value of type \`java.lang.String\` from ${Array.isArray(rawValue) ? "Array" : "Object"} value (token \`JsonToken.START_${Array.isArray(rawValue) ? "ARRAY" : "OBJECT"}\`) (through reference chain: properties["${name}"])`,
        );
      }
      const definition = this.property(objectType, name);
      if (definition === undefined) {
        issues.push({
          name,
          value: text ?? "",
          code: "PROPERTY_DOESNT_EXIST",
          message: `Property "${name}" does not exist`,
        });
        continue;
      }
      if (text === null) {
        values.set(name, null);
        continue;
      }
      const checked = checkPropertyValue(definition, text, ownerIds);
      if (checked.ok) values.set(name, checked.value);
      else issues.push(checked.issue);
    }
    if (mode === "create") {
      for (const required of OBJECT_TYPES[objectType].requiredProperties) {
        const value = values.get(required);
        if ((value === undefined || value === null) && !issues.some((issue) => issue.name === required)) {
          issues.push({
            name: required,
            value: "",
            code: "MISSING_REQUIRED_PROPERTY",
            message: `${required} is required`,
          });
        }
      }
    }
    if (issues.length > 0) throw propertyValuesError(issues, this.options.portalId);
    return values;
  }

  // ------------------------------------------------------------------ records

  /** A record by id, archived or not. */
  find(objectType: HubSpotObjectType, id: string): StoredObject | undefined {
    return this.objects.get(objectType)?.get(id);
  }

  /** A live record by id. */
  live(objectType: HubSpotObjectType, id: string): StoredObject | undefined {
    const found = this.find(objectType, id);
    return found === undefined || found.archived ? undefined : found;
  }

  /** A live record whose `property` equals `value` (case-insensitively for emails). */
  findByProperty(objectType: HubSpotObjectType, property: string, value: string): StoredObject | undefined {
    const wanted = property === "email" ? value.trim().toLowerCase() : value;
    for (const record of this.objects.get(objectType)?.values() ?? []) {
      if (record.archived) continue;
      const actual = record.properties.get(property);
      if (actual === undefined) continue;
      if ((property === "email" ? actual.trim().toLowerCase() : actual) === wanted) return record;
    }
    return undefined;
  }

  /** Records by id ascending: live ones, or the archived ones. */
  list(objectType: HubSpotObjectType, archived = false): StoredObject[] {
    return [...(this.objects.get(objectType)?.values() ?? [])]
      .filter((record) => record.archived === archived)
      .sort((left, right) => Number(left.id) - Number(right.id));
  }

  /** Throws the 409 when another live contact has this email. */
  assertEmailFree(email: string | null | undefined, exceptId?: string): void {
    if (email === null || email === undefined) return;
    const existing = this.findByProperty("contacts", "email", email);
    if (existing !== undefined && existing.id !== exceptId) throw contactExistsError(existing.id);
  }

  /** Creates a record from checked values and reports the creation and each property set. */
  insert(objectType: HubSpotObjectType, values: PropertyValues, origin: ChangeOrigin): StoredObject {
    const now = this.now();
    const id = String(this.nextId);
    this.nextId += 1;
    const info = OBJECT_TYPES[objectType];
    const properties = new Map<string, string>();
    for (const [name, value] of values) if (value !== null) properties.set(name, value);
    if (!properties.has(info.createdProperty)) properties.set(info.createdProperty, formatInstant(now));
    for (const name of info.modifiedProperties) properties.set(name, formatInstant(now));
    properties.set("hs_object_id", id);
    this.updateCalculated(objectType, properties);
    const record: StoredObject = {
      id,
      objectType,
      properties,
      createdAt: now,
      updatedAt: now,
      archived: false,
      archivedAt: undefined,
      searchVersions: [],
      history: new Map(),
    };
    this.recordHistory(record, new Map(), values, origin);
    this.objects.get(objectType)?.set(id, record);
    this.index(record);
    this.report({ kind: "creation", objectType, objectId: id, origin, occurredAt: now });
    for (const [name, value] of values) {
      if (value === null) continue;
      this.report({
        kind: "propertyChange",
        objectType,
        objectId: id,
        propertyName: name,
        propertyValue: value,
        origin,
        occurredAt: now,
      });
    }
    return record;
  }

  /** Applies checked values; reports one property change per value that actually changed. Returns the changed names. */
  update(record: StoredObject, values: PropertyValues, origin: ChangeOrigin): string[] {
    const before = new Map(record.properties);
    const changed: string[] = [];
    for (const [name, value] of values) {
      const previous = record.properties.get(name);
      if ((value ?? undefined) === previous) continue;
      if (value === null) record.properties.delete(name);
      else record.properties.set(name, value);
      changed.push(name);
    }
    const now = this.now();
    record.updatedAt = now;
    for (const name of OBJECT_TYPES[record.objectType].modifiedProperties) {
      record.properties.set(name, formatInstant(now));
    }
    this.updateCalculated(record.objectType, record.properties);
    this.recordHistory(record, before, values, origin);
    this.index(record);
    for (const name of changed) {
      this.report({
        kind: "propertyChange",
        objectType: record.objectType,
        objectId: record.id,
        propertyName: name,
        propertyValue: record.properties.get(name) ?? "",
        origin,
        occurredAt: now,
      });
    }
    return changed;
  }

  /** Archives a live record (it leaves the index and loses its associations). */
  archive(record: StoredObject, origin: ChangeOrigin): void {
    if (record.archived) return;
    const now = this.now();
    record.archived = true;
    record.archivedAt = now;
    this.removeAllAssociations(record.objectType, record.id);
    this.index(record);
    this.report({
      kind: "deletion",
      objectType: record.objectType,
      objectId: record.id,
      origin,
      occurredAt: now,
    });
  }

  /** Appends a history entry for every property whose value differs from `before`. */
  private recordHistory(
    record: StoredObject,
    before: ReadonlyMap<string, string>,
    written: PropertyValues,
    origin: ChangeOrigin,
  ): void {
    const names = new Set([...before.keys(), ...record.properties.keys()]);
    for (const name of names) {
      const value = record.properties.get(name);
      if (value === before.get(name)) continue;
      const byWriter = written.has(name);
      let entries = record.history.get(name);
      if (entries === undefined) {
        entries = [];
        record.history.set(name, entries);
      }
      entries.push({
        value: value ?? "",
        timestamp: record.updatedAt,
        sourceType: byWriter ? origin.changeSource : "CALCULATED",
        sourceId: byWriter ? origin.sourceId : undefined,
      });
    }
  }

  private updateCalculated(objectType: HubSpotObjectType, properties: Map<string, string>): void {
    if (objectType !== "contacts") return;
    const email = properties.get("email");
    if (email === undefined) properties.delete("hs_email_domain");
    else properties.set("hs_email_domain", email.slice(email.lastIndexOf("@") + 1).toLowerCase());
  }

  private report(change: ObjectChange): void {
    this.options.onChange(change);
  }

  // ------------------------------------------------------------------ search index

  /**
   * Adds the record's current version (properties and associations) to the index; it becomes
   * searchable after the lag.
   */
  private index(record: StoredObject): void {
    const now = this.now();
    const associations: Partial<Record<HubSpotObjectType, string[]>> = {};
    if (!record.archived) {
      for (const association of this.associationsOf(record.objectType, record.id)) {
        associations[association.toType] = [...(associations[association.toType] ?? []), association.toId];
      }
    }
    record.searchVersions.push({
      visibleAt: now + this.options.searchIndexLagMs,
      snapshot: record.archived
        ? null
        : {
            id: record.id,
            properties: Object.fromEntries(record.properties),
            createdAt: record.createdAt,
            updatedAt: record.updatedAt,
            associations,
          },
    });
    this.pruneVersions(record, now);
  }

  /** Indexes the live records behind `type:id` keys again (their associations changed). */
  private reindex(keys: readonly string[]): void {
    for (const key of new Set(keys)) {
      const separator = key.indexOf(":");
      const record = this.live(key.slice(0, separator) as HubSpotObjectType, key.slice(separator + 1));
      if (record !== undefined) this.index(record);
    }
  }

  private pruneVersions(record: StoredObject, now: number): void {
    let lastVisible = -1;
    record.searchVersions.forEach((version, index) => {
      if (version.visibleAt <= now) lastVisible = index;
    });
    if (lastVisible > 0) record.searchVersions.splice(0, lastVisible);
  }

  /** What search sees of the records of a type now. */
  searchable(objectType: HubSpotObjectType): SearchSnapshot[] {
    const now = this.now();
    const snapshots: SearchSnapshot[] = [];
    for (const record of this.objects.get(objectType)?.values() ?? []) {
      this.pruneVersions(record, now);
      let visible: SearchVersion | undefined;
      for (const version of record.searchVersions) if (version.visibleAt <= now) visible = version;
      if (visible?.snapshot != null) snapshots.push(visible.snapshot);
    }
    return snapshots.sort((left, right) => Number(left.id) - Number(right.id));
  }

  // ------------------------------------------------------------------ associations

  /**
   * Adds association types from one record to another and the inverse types the other way.
   * The caller has checked that both records exist and that the types join these object types.
   */
  associate(
    fromType: HubSpotObjectType,
    fromId: string,
    toType: HubSpotObjectType,
    toId: string,
    typeIds: readonly number[],
  ): void {
    for (const typeId of typeIds) {
      const definition = associationDefinition(typeId);
      this.link(`${fromType}:${fromId}`, `${toType}:${toId}`, typeId);
      if (definition !== undefined)
        this.link(`${toType}:${toId}`, `${fromType}:${fromId}`, definition.inverseTypeId);
    }
    this.reindex([`${fromType}:${fromId}`, `${toType}:${toId}`]);
  }

  private link(from: string, to: string, typeId: number): void {
    let targets = this.links.get(from);
    if (targets === undefined) {
      targets = new Map();
      this.links.set(from, targets);
    }
    let types = targets.get(to);
    if (types === undefined) {
      types = new Set();
      targets.set(to, types);
    }
    types.add(typeId);
  }

  /** Removes every association (both directions) between two records. */
  dissociate(fromType: HubSpotObjectType, fromId: string, toType: HubSpotObjectType, toId: string): void {
    this.links.get(`${fromType}:${fromId}`)?.delete(`${toType}:${toId}`);
    this.links.get(`${toType}:${toId}`)?.delete(`${fromType}:${fromId}`);
    this.reindex([`${fromType}:${fromId}`, `${toType}:${toId}`]);
  }

  /** Removes some association types between two records (and their inverses). */
  dissociateTypes(
    fromType: HubSpotObjectType,
    fromId: string,
    toType: HubSpotObjectType,
    toId: string,
    typeIds: readonly number[],
  ): void {
    for (const typeId of typeIds) {
      const forward = this.links.get(`${fromType}:${fromId}`)?.get(`${toType}:${toId}`);
      forward?.delete(typeId);
      if (forward?.size === 0) this.links.get(`${fromType}:${fromId}`)?.delete(`${toType}:${toId}`);
      const inverse = associationDefinition(typeId)?.inverseTypeId;
      if (inverse === undefined) continue;
      const backward = this.links.get(`${toType}:${toId}`)?.get(`${fromType}:${fromId}`);
      backward?.delete(inverse);
      if (backward?.size === 0) this.links.get(`${toType}:${toId}`)?.delete(`${fromType}:${fromId}`);
    }
    this.reindex([`${fromType}:${fromId}`, `${toType}:${toId}`]);
  }

  /** Removes every association of a record; the records it was associated with are indexed again. */
  private removeAllAssociations(objectType: HubSpotObjectType, id: string): void {
    const key = `${objectType}:${id}`;
    const targets = [...(this.links.get(key)?.keys() ?? [])];
    for (const target of targets) this.links.get(target)?.delete(key);
    this.links.delete(key);
    this.reindex(targets);
  }

  /** The records a record is associated with (optionally of one type), by id ascending. */
  associationsOf(
    fromType: HubSpotObjectType,
    fromId: string,
    toType?: HubSpotObjectType,
  ): { toType: HubSpotObjectType; toId: string; typeIds: number[] }[] {
    const result: { toType: HubSpotObjectType; toId: string; typeIds: number[] }[] = [];
    for (const [target, types] of this.links.get(`${fromType}:${fromId}`) ?? []) {
      const separator = target.indexOf(":");
      const type = target.slice(0, separator) as HubSpotObjectType;
      if (toType !== undefined && type !== toType) continue;
      if (types.size === 0) continue;
      result.push({
        toType: type,
        toId: target.slice(separator + 1),
        typeIds: [...types].sort((a, b) => a - b),
      });
    }
    return result.sort((left, right) => Number(left.toId) - Number(right.toId));
  }

  // ------------------------------------------------------------------ rendering

  /**
   * The v3 shape of a record. `names` undefined: every stored property; otherwise the named known
   * properties plus the always-returned ones, null when unset (unknown names are left out).
   */
  /**
   * The `propertiesWithHistory` of a record for the named known properties: each property's values,
   * newest first (an empty list for a property that never had one).
   */
  renderHistory(record: StoredObject, names: readonly string[]): Record<string, Record<string, unknown>[]> {
    const result: Record<string, Record<string, unknown>[]> = {};
    for (const name of names) {
      if (this.anyProperty(record.objectType, name) === undefined) continue;
      result[name] = [...(record.history.get(name) ?? [])].reverse().map((entry) => ({
        value: entry.value,
        timestamp: formatInstant(entry.timestamp),
        sourceType: entry.sourceType,
        ...(entry.sourceId === undefined ? {} : { sourceId: entry.sourceId }),
      }));
    }
    return result;
  }

  render(record: StoredObject, names?: readonly string[]): HubSpotSimulatorObject {
    return renderRecord(
      {
        id: record.id,
        properties: Object.fromEntries(record.properties),
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
      },
      record.objectType,
      names,
      (name) => this.anyProperty(record.objectType, name) !== undefined,
      { archived: record.archived, archivedAt: record.archivedAt },
    );
  }
}

/** Renders a record or search snapshot; see {@link SimulatorStore.render}. */
export function renderRecord(
  source: SearchSnapshot,
  objectType: HubSpotObjectType,
  names: readonly string[] | undefined,
  isKnown: (name: string) => boolean,
  status: { archived: boolean; archivedAt: number | undefined } = { archived: false, archivedAt: undefined },
): HubSpotSimulatorObject {
  let properties: Record<string, string | null>;
  if (names === undefined) {
    properties = { ...source.properties };
  } else {
    properties = {};
    const wanted = new Set([...names, ...OBJECT_TYPES[objectType].alwaysProperties]);
    for (const name of wanted) if (isKnown(name)) properties[name] = source.properties[name] ?? null;
  }
  const sorted = Object.fromEntries(
    Object.entries(properties).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)),
  );
  return {
    id: source.id,
    // Requested properties without a value are null on the wire (the public type keeps only strings).
    properties: sorted as Record<string, string>,
    createdAt: formatInstant(source.createdAt),
    updatedAt: formatInstant(source.updatedAt),
    archived: status.archived,
    ...(status.archivedAt === undefined ? {} : { archivedAt: formatInstant(status.archivedAt) }),
  };
}
