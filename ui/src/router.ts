import { createRouter, createWebHistory, type Router } from 'vue-router';
import ShellLayout from './layout/ShellLayout.vue';
import { useSession } from './stores/session';
import { SHELL_ROUTE, type PluginRuntime } from './runtime/plugins';

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean;
    title?: string;
    permission?: string;
    plugin?: string;
  }
}

export function createShellRouter(runtime: () => PluginRuntime): Router {
  const router = createRouter({
    history: createWebHistory(),
    routes: [
      { path: '/setup', name: 'setup', component: () => import('./pages/SetupPage.vue'), meta: { public: true, title: 'Setup' } },
      { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue'), meta: { public: true, title: 'Log in' } },
      {
        path: '/',
        name: SHELL_ROUTE,
        component: ShellLayout,
        children: [
          { path: '', name: 'dashboard', component: () => import('./pages/DashboardPage.vue'), meta: { title: 'Dashboard' } },
          { path: 'users', name: 'users', component: () => import('./pages/UsersPage.vue'), meta: { title: 'Users', permission: 'user.read' } },
          { path: 'roles', name: 'roles', component: () => import('./pages/RolesPage.vue'), meta: { title: 'Roles & permissions', permission: 'role.read' } },
          { path: 'tenants', name: 'tenants', component: () => import('./pages/TenantsPage.vue'), meta: { title: 'Tenants', permission: 'tenant.read' } },
          { path: 'audit', name: 'audit', component: () => import('./pages/AuditPage.vue'), meta: { title: 'Audit log', permission: 'audit.read' } },
          { path: 'plugins', name: 'plugins', component: () => import('./pages/PluginsPage.vue'), meta: { title: 'Plugins', permission: 'plugin.read' } },
          { path: 'plugins/:id', name: 'plugin', component: () => import('./pages/PluginDetailPage.vue'), meta: { title: 'Plugin', permission: 'plugin.read' } },
          { path: 'account', name: 'account', component: () => import('./pages/AccountPage.vue'), meta: { title: 'Account & security' } },
          { path: 'account/sessions', name: 'sessions', component: () => import('./pages/SessionsPage.vue'), meta: { title: 'My sessions' } },
          { path: 'account/tokens', name: 'tokens', component: () => import('./pages/TokensPage.vue'), meta: { title: 'API tokens' } },
          { path: ':pathMatch(.*)*', name: 'not-found', component: () => import('./pages/NotFoundPage.vue'), meta: { title: 'Not found' } },
        ],
      },
    ],
  });

  router.beforeEach(async (to) => {
    const session = useSession();
    if (!session.checked) await session.refresh();
    if (to.meta.public) {
      if (session.me && to.name === 'login') return typeof to.query.next === 'string' && to.query.next.startsWith('/') ? to.query.next : '/';
      if (to.name === 'login' && !session.me && (await session.checkSetup())) return { name: 'setup' };
      return true;
    }
    if (!session.me) {
      if (await session.checkSetup()) return { name: 'setup' };
      return { name: 'login', query: to.fullPath === '/' ? {} : { next: to.fullPath } };
    }
    // Plugin pages exist once their modules are loaded: wait for the first load, then match again.
    const wasLoaded = !!runtime().ready;
    await runtime().start();
    if (!wasLoaded && to.name === 'not-found' && router.resolve(to.fullPath).name !== 'not-found') return to.fullPath;
    return true;
  });

  router.afterEach((to) => {
    const main = document.getElementById('main');
    if (main && to.name !== 'login') main.focus({ preventScroll: true });
  });
  return router;
}
