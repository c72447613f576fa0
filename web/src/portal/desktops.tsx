/**
 * The signed-in view: the leased-mode banner, the offer list (or "No resources available"
 * with the API's reason), Refresh.
 */
import { useState } from 'preact/hooks';
import { problem, sessionEnded } from '../shared/messages.ts';
import { type OfferList, portalApi } from '../shared/portal-api.ts';
import { useFocusHeading } from '../shared/use-focus-heading.ts';
import { OfferCard } from './offer-card.tsx';

export function Desktops(props: {
  readonly list: OfferList;
  readonly onList: (list: OfferList) => void;
  readonly onSessionEnded: () => void;
  readonly announce: (text: string) => void;
}) {
  const { list } = props;
  const [refreshing, setRefreshing] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const heading = useFocusHeading<HTMLHeadingElement>('desktops');

  const refresh = async (announcement?: string) => {
    setRefreshing(true);
    setError(undefined);
    try {
      const fresh = await portalApi.offers();
      props.onList(fresh);
      props.announce(
        announcement ??
          `Desktop list refreshed: ${fresh.offers.length} desktop${fresh.offers.length === 1 ? '' : 's'}.`,
      );
    } catch (e: unknown) {
      if (sessionEnded(e)) props.onSessionEnded();
      else setError(problem(e));
    } finally {
      setRefreshing(false);
    }
  };

  return (
    <main id="main" class="page">
      <div class="toolbar">
        <h1 ref={heading} tabIndex={-1}>
          Your desktops
        </h1>
        <button
          type="button"
          class="button secondary"
          onClick={() => refresh()}
          disabled={refreshing}
        >
          {refreshing ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      {list.mode === 'leased' && (
        <div class="banner warning" role="status">
          <strong>Limited service</strong>
          The broker cannot reach its site database. You can still connect to desktops you used
          recently; others come back when the database does.
        </div>
      )}
      {error && (
        <div class="banner error" role="alert">
          {error}
        </div>
      )}
      {list.offers.length === 0 ? (
        <section class="card empty" aria-labelledby="no-resources">
          <h2 id="no-resources">No resources available</h2>
          <p>
            {list.reason
              ? `${list.reason[0]!.toUpperCase()}${list.reason.slice(1)}.`
              : 'No desktop is offered to you right now.'}
          </p>
        </section>
      ) : (
        <ul class="offers">
          {list.offers.map((offer) => (
            <OfferCard
              key={offer.desktopId}
              offer={offer}
              onChanged={(text) => refresh(text)}
              onSessionEnded={props.onSessionEnded}
            />
          ))}
        </ul>
      )}
    </main>
  );
}
