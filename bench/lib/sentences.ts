/**
 * What the load sends: review-like sentences of realistic and varied lengths (3 to about 60 words), written for
 * this benchmark, so it needs no dataset. Requests cycle through them.
 */
export const SENTENCES: readonly string[] = [
  'this is a bad example',
  'this is a great example',
  'a gorgeous, witty, seductive movie.',
  'the plot is thin and the jokes fall flat.',
  'not worth the price of the ticket',
  'an utterly charming and often very funny film that never forgets to have a heart.',
  'I wanted to like it, but the second half drags on for far too long and the ending is a mess.',
  'superb performances all round',
  'dull, plodding and ultimately pointless',
  'the director keeps the tension high from the first scene to the last, and the cast is uniformly excellent.',
  'it is the kind of movie that makes you glad you went to the cinema on a rainy afternoon.',
  'the dialogue sounds as if it was written by committee, and the committee was asleep.',
  'a visual feast, even if the story underneath it is familiar',
  'what could have been a touching drama turns into a string of clichés, loud music and slow motion.',
  'funny, moving and smart',
  'the worst film I have seen this year',
  'although the lead actor tries hard, he cannot save a screenplay that seems to have been assembled from leftovers of better films, and by the time the final act arrives nobody in the audience still cares what happens to any of these people.',
  'a quiet triumph',
  'too long, too loud and not nearly clever enough to justify its running time',
  'the documentary asks hard questions and, to its credit, does not pretend to have easy answers.',
  'boring',
  'it works',
  'a sweet, gentle comedy with a sharp edge and a wonderful ensemble cast that clearly enjoyed making it, and it shows in every single scene.',
  'the special effects are impressive, but they cannot hide how hollow the characters are',
];
