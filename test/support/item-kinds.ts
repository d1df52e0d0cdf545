/** One item of every kind (docs/study-design.md), as the server and browser tests of the study design use them. */
export const EVERY_KIND_ITEMS = [
  { id: 'mood', label: 'Mood', min: 0, max: 100 },
  { id: 'energy', kind: 'likert', label: 'Energy', labels: ['none', 'little', 'some', 'a lot'] },
  { id: 'place', kind: 'choice', label: 'Where are you?', options: [{ value: 1, label: 'home' }, { value: 2, label: 'work' }, { value: 3, label: 'elsewhere' }] },
  { id: 'company', kind: 'choice', multiple: true, label: 'Who is with you?', options: [{ value: 0, label: 'nobody' }, { value: 1, label: 'partner' }, { value: 2, label: 'friends' }] },
  { id: 'coffee', kind: 'boolean', label: 'Coffee since the last check-in?' },
  { id: 'note', kind: 'text', label: 'Anything else?', maxLength: 200 },
];
