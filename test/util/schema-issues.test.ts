import { describe, expect, it } from 'vitest';
import { closestName, editDistance } from '../../src/util/suggest.js';
import { knownKeys, schemaIssues } from '../../src/util/schema-issues.js';
import { StudyConfigSchema } from '../../src/data/study.js';
import { ConfigSchema } from '../../src/model/config.js';
import { TasksConfigSchema } from '../../src/amm/tasks.js';

describe('did-you-mean', () => {
  it('edit distance and the closest known name', () => {
    expect(editDistance('epochSecond', 'epochSeconds')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closestName('epochSecond', ['epochSeconds', 'channels', 'ranges'])).toBe('epochSeconds');
    expect(closestName('Timezone', ['timezone', 'name'])).toBe('timezone');
    expect(closestName('zzzzzz', ['epochSeconds', 'channels'])).toBeUndefined();
  });

  it('user-written JSON rejects unknown keys, naming the place and the key meant', () => {
    const r = StudyConfigSchema.safeParse({ name: 's', activity: { epochSecond: 86400 }, speech: { kind: 'none' }, nmae: 1 });
    expect(r.success).toBe(false);
    const msgs = schemaIssues(StudyConfigSchema, r.error!, 'study.json').map((i) => i.message);
    expect(msgs).toContain('unknown key "epochSecond" at activity — did you mean "epochSeconds"?');
    expect(msgs).toContain('unknown key "nmae" — did you mean "name"?');
    const c = ConfigSchema.safeParse({ train: { epoch: 3 }, model: { fusion: { name: 'druw', wieghts: [1] } } });
    const cm = schemaIssues(ConfigSchema, c.error!, 'my.json').map((i) => i.message);
    expect(cm).toEqual(expect.arrayContaining(['unknown key "epoch" at train — did you mean "epochs"?', 'unknown key "wieghts" at model.fusion — did you mean "weights"?']));
    const t = TasksConfigSchema.safeParse({ tasks: [{ name: 'd', kind: 'binary', items: ['a'], treshold: 0.3 }] });
    expect(schemaIssues(TasksConfigSchema, t.error!, 'tasks.json')[0].message).toBe('unknown key "treshold" at tasks.0 — did you mean "threshold"?');
    // an item is one of several kinds (docs/study-design.md): the keys of every kind
    expect(knownKeys(StudyConfigSchema, ['items', 0])).toEqual(['id', 'kind', 'label', 'min', 'max', 'labels', 'multiple', 'options', 'maxLength']);
  });
});
