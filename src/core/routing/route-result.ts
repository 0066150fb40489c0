/**
 * Where one message goes: filled by `Router.route`. Create one per publishing path (channel, session)
 * and pass it to every `route` call so that routing allocates nothing per message; the arrays are reset
 * at the start of each call, so copy them if they must outlive the next one.
 */
export class RouteResult {
  /**
   * Names of the queues the message goes to, each once. When the message went through the default
   * exchange `""` this holds the routing key as a candidate queue name that the router has NOT checked:
   * the caller must drop names of queues that do not exist (and treat the message as unroutable when
   * nothing is left, for the mandatory flag).
   */
  readonly queues: string[] = [];
  /** Names of the streams the message goes to, each once. */
  readonly streams: string[] = [];

  /** True when no queue or stream was found. */
  get isEmpty(): boolean {
    return this.queues.length === 0 && this.streams.length === 0;
  }

  clear(): void {
    this.queues.length = 0;
    this.streams.length = 0;
  }
}
