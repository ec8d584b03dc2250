// Error answers of the scoring server, in the shapes MLflow clients expect.

/** A request the server answers with an error status; `body` is sent as is. */
export class ScoringError extends Error {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  /** Extra response headers (Allow on a 405). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  constructor(status: number, errorCode: string | null, message: string, headers?: Record<string, string>) {
    super(message);
    this.headers = headers;
    this.name = 'ScoringError';
    this.status = status;
    // MLflow answers content-type problems (415) in plain text and everything else as an MlflowException in JSON.
    this.contentType = errorCode === null ? 'text/plain; charset=utf-8' : 'application/json';
    this.body = errorCode === null ? message : JSON.stringify({ error_code: errorCode, message });
  }
}

/** 400 with MLflow's error code for requests it cannot parse (MlflowInvalidInputException uses BAD_REQUEST). */
export function badRequest(message: string): ScoringError {
  return new ScoringError(400, 'BAD_REQUEST', `Invalid input. ${message}`);
}

/** 400 with the code MLflow uses for schema enforcement failures. */
export function invalidParameter(message: string): ScoringError {
  return new ScoringError(400, 'INVALID_PARAMETER_VALUE', message);
}
