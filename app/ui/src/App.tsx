import { useEffect, useState } from "react";
import { Burger, Button, Center, Group, Loader, NavLink, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { api, type SessionView } from "./api.js";
import { ErrorNote } from "./components.js";
import { SignIn } from "./pages/SignIn.js";
import { Keys } from "./pages/Keys.js";
import { Teams } from "./pages/Teams.js";
import { Users } from "./pages/Users.js";
import { Models } from "./pages/Models.js";
import { EndUsers } from "./pages/EndUsers.js";
import { Organizations } from "./pages/Organizations.js";
import { Budgets } from "./pages/Budgets.js";
import { Usage } from "./pages/Usage.js";
import { Logs } from "./pages/Logs.js";
import { Database } from "./pages/Database.js";

const PAGES = {
  keys: { title: "Keys", page: Keys },
  teams: { title: "Teams", page: Teams },
  users: { title: "Users", page: Users },
  models: { title: "Models", page: Models },
  organizations: { title: "Organizations", page: Organizations },
  "end-users": { title: "End users", page: EndUsers },
  budgets: { title: "Budgets", page: Budgets },
  usage: { title: "Usage", page: Usage },
  logs: { title: "Logs", page: Logs },
  database: { title: "Database", page: Database },
} as const;
type PageName = keyof typeof PAGES;

/** The page named by the address (/ui/<page>), so every page can be linked to and reloaded. */
function pageOf(pathname: string): PageName {
  const name = pathname.replace(/^\/ui\/?/, "").split("/")[0] ?? "";
  return name in PAGES ? (name as PageName) : "keys";
}

export function App() {
  const [session, setSession] = useState<SessionView | undefined | null>(null);
  const [error, setError] = useState<string>();
  const [page, setPage] = useState<PageName>(pageOf(location.pathname));
  const [opened, { toggle, close }] = useDisclosure();

  useEffect(() => {
    api.session().then(setSession, (failure: Error) => {
      setSession(undefined);
      setError(failure.message);
    });
    const onPop = () => setPage(pageOf(location.pathname));
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);

  useEffect(() => {
    document.title = `${PAGES[page].title} · tandem admin`;
  }, [page]);

  const go = (name: PageName) => {
    history.pushState(null, "", `/ui/${name}`);
    setPage(name);
    close();
  };

  if (session === null)
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  if (!session)
    return (
      <>
        <ErrorNote error={error} />
        <SignIn onSignedIn={setSession} />
      </>
    );

  const Current = PAGES[page].page;
  // tandem's own layout (app.css), not Mantine's AppShell: that one sizes itself with <style>
  // elements, which the page's Content-Security-Policy refuses.
  return (
    <div className="shell" data-nav-open={opened}>
      <header className="shell-header">
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm">
            <Burger opened={opened} onClick={toggle} className="shell-burger" size="sm" aria-label="Menu" />
            <Text fw={700} size="lg">
              tandem
            </Text>
          </Group>
          <Button
            variant="subtle"
            onClick={() =>
              api.signOut().then(
                () => setSession(undefined),
                (failure: Error) => setError(failure.message),
              )
            }
          >
            Sign out
          </Button>
        </Group>
      </header>
      <nav className="shell-nav" aria-label="Pages">
        {(Object.keys(PAGES) as PageName[]).map((name) => (
          <NavLink
            key={name}
            href={`/ui/${name}`}
            label={PAGES[name].title}
            active={name === page}
            aria-current={name === page ? "page" : undefined}
            onClick={(event) => {
              event.preventDefault();
              go(name);
            }}
          />
        ))}
      </nav>
      <main className="shell-main">
        <Title order={1} size="h2" mb="md">
          {PAGES[page].title}
        </Title>
        <ErrorNote error={error} />
        <Current />
      </main>
    </div>
  );
}
