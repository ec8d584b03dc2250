// The business objects of the spam filter: an email as stored and as scored, and a prediction.

export type Label = 'spam' | 'ham';

export interface Email {
  /** Unique id: `<corpus group>/<message number>`, e.g. `spam-2/00017`. */
  id: string;
  /** Corpus group the message came from (easy-ham-1, hard-ham-1, spam-2, ...). */
  group: string;
  /** The raw message: RFC 822 headers, an empty line, the (possibly MIME) body. */
  text: string;
  label: Label;
}

export interface Prediction {
  label: Label;
  /** Probability that the email is spam, as the classifier's float32 output. */
  spam_probability: number;
}
