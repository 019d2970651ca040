export default defineAppConfig({
  pages: [
    'pages/home/index',
    'pages/search/index',
    'pages/chat/index',
    'pages/me/index',
    'pages/login/index',
    'pages/register/index',
    'pages/post/index',
    'pages/listing/index',
    'pages/thread/index',
    'pages/notifications/index',
    'pages/help/index',
    'pages/deal/index',
    'pages/quotes/index',
  ],
  // H5: pages switch without a slide (they read as one app, and tests see settled pages).
  animation: false,
  window: {
    // H5 draws the title bar (with its back button) only when asked.
    navigationStyle: 'default',
    navigationBarBackgroundColor: '#0b6e4f',
    navigationBarTitleText: '智企连',
    navigationBarTextStyle: 'white',
    backgroundColor: '#f4f6f8',
    backgroundTextStyle: 'dark',
  },
  tabBar: {
    color: '#6b7280',
    selectedColor: '#0b6e4f',
    backgroundColor: '#ffffff',
    borderStyle: 'black',
    list: [
      { pagePath: 'pages/home/index', text: '首页' },
      { pagePath: 'pages/search/index', text: '搜索' },
      { pagePath: 'pages/chat/index', text: '消息' },
      { pagePath: 'pages/me/index', text: '我的' },
    ],
  },
})
